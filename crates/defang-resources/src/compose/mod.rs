//! Compose files as Defang services: parsing, interpolation and the mapping of each Compose
//! service onto the inputs of `defang:index:Service` (pure functions; the component that
//! registers the children is built on them).

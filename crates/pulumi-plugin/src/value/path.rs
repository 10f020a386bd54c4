//! Property paths as the engine prints and parses them: `a.b[0]`, `env["KEY.WITH.DOTS"]`.

use std::fmt;

/// Where a value sits in a property map; [`Display`](fmt::Display) renders it as the engine
/// does. Built from [`PropertyPath::root`] a step at a time.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PropertyPath(Vec<Segment>);

/// One step of a [`PropertyPath`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    /// A property of an object (or the top-level property).
    Key(String),
    /// An element of a list.
    Index(usize),
}

impl PropertyPath {
    /// The empty path: the property map itself.
    pub fn root() -> Self {
        PropertyPath(Vec::new())
    }

    /// This path, then the property `key`.
    pub fn key(&self, key: &str) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Key(key.to_string()));
        PropertyPath(segments)
    }

    /// This path, then element `index`.
    pub fn index(&self, index: usize) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Index(index));
        PropertyPath(segments)
    }

    /// The steps, outermost first.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// The top-level property this path starts at.
    pub fn top(&self) -> Option<&str> {
        match self.0.first() {
            Some(Segment::Key(k)) => Some(k),
            _ => None,
        }
    }

    /// True when `self` equals `other` or lies inside it.
    pub fn starts_with(&self, other: &PropertyPath) -> bool {
        self.0.starts_with(&other.0)
    }
}

fn is_simple_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

impl fmt::Display for PropertyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Segment::Key(k) if is_simple_key(k) => {
                    if i > 0 {
                        write!(f, ".")?;
                    }
                    write!(f, "{k}")?;
                }
                Segment::Key(k) => write!(f, "[{}]", serde_json::Value::String(k.clone()))?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_the_engine() {
        let p = PropertyPath::root().key("ports").index(1).key("target");
        assert_eq!(p.to_string(), "ports[1].target");
        let p = PropertyPath::root().key("environment").key("A.B");
        assert_eq!(p.to_string(), "environment[\"A.B\"]");
        let p = PropertyPath::root().key("1bad");
        assert_eq!(p.to_string(), "[\"1bad\"]");
        assert_eq!(PropertyPath::root().key("image").top(), Some("image"));
    }

    #[test]
    fn prefix() {
        let a = PropertyPath::root().key("ports");
        let b = a.index(0).key("target");
        assert!(b.starts_with(&a));
        assert!(!a.starts_with(&b));
    }
}

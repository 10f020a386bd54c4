//! End to end in TypeScript: `examples/ts-web-and-api` (the YAML example's program, written
//! against the generated SDK in `sdk/nodejs`) through the real `pulumi` CLI against moto, run as
//! an Automation API inline program; the checks are those of every language
//! ([`defang_tests::languages::web_and_api_end_to_end`]).

use defang_tests::languages::{nodejs::NodeJs, web_and_api_end_to_end};

#[test]
fn ts_web_and_api_end_to_end() {
    web_and_api_end_to_end(&NodeJs);
}

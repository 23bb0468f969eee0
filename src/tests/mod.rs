//! The crate's own tests of internals that the public API does not show: the exact read paths
//! against a reference detector, packet-capture decoding, session files read from anywhere.
//! Everything a user can reach is tested from outside, in tests/it/.

#[path = "../../tests/it/common/data.rs"]
mod data;

mod capture;
mod native;
mod paths;

/// `analyze FILE -f json FLAGS...` through the library: the settings parsed from the command
/// line's flags, the whole pipeline, the JSON contract as a value.
fn analyze_json(path: &std::path::Path, flags: &[&str]) -> serde_json::Value {
    let words: Vec<String> = flags.iter().map(|s| s.to_string()).collect();
    let settings = crate::settings::SettingsArgs::parse_options(&words, std::path::Path::new("."))
        .expect("flags")
        .settings();
    let a = crate::pipeline::run_file(path.to_str().unwrap(), &settings)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::to_value(&a).unwrap()
}

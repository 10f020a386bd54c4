//! The SDKs in `sdk/` are exactly what the generator writes from `schema.json` today: a schema
//! change without `make sdk`, or a hand edit of generated code, fails here with the files that
//! differ. The generator is the one `scripts/gen-sdk.sh --bin` builds (`DEFANG_GEN_SDK_BIN`,
//! exported by `scripts/test.sh`).

use defang_tests::languages::docs::{descriptions, undocumented};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const LANGUAGES: [&str; 3] = ["nodejs", "python", "go"];

fn generator() -> PathBuf {
    match std::env::var_os("DEFANG_GEN_SDK_BIN") {
        Some(bin) if !bin.is_empty() => PathBuf::from(bin),
        _ => panic!(
            "DEFANG_GEN_SDK_BIN is not set: run the tests through scripts/test.sh (`make test`), \
             or export DEFANG_GEN_SDK_BIN=\"$(scripts/gen-sdk.sh --bin | tail -n 1)\""
        ),
    }
}

/// The files under `dir`, relative to it.
fn files(dir: &Path) -> BTreeSet<PathBuf> {
    let mut found = BTreeSet::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                todo.push(path);
            } else {
                found.insert(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    found
}

/// Every difference between the generated tree `fresh` and the committed `committed`.
fn differences(fresh: &Path, committed: &Path) -> Vec<String> {
    let (new, old) = (files(fresh), files(committed));
    let mut out = Vec::new();
    for path in new.union(&old) {
        let (a, b) = (fresh.join(path), committed.join(path));
        match (new.contains(path), old.contains(path)) {
            (true, false) => out.push(format!("{}: generated, not committed", b.display())),
            (false, true) => out.push(format!("{}: committed, no longer generated", b.display())),
            _ if std::fs::read(&a).unwrap() != std::fs::read(&b).unwrap() => out.push(format!(
                "{}: differs from what the schema generates",
                b.display()
            )),
            _ => {}
        }
    }
    out
}

#[test]
fn committed_sdks_are_what_the_schema_generates() {
    let root = defang_tests::repo_root();
    let out = std::env::temp_dir().join(defang_tests::unique("sdk-drift-"));
    let status = std::process::Command::new(generator())
        .arg("-schema")
        .arg(root.join("schema.json"))
        .arg("-out")
        .arg(&out)
        .status()
        .expect("run the SDK generator");
    assert!(status.success(), "the SDK generator failed: {status}");
    let mut all = Vec::new();
    for lang in LANGUAGES {
        let fresh = out.join(lang);
        assert!(
            !files(&fresh).is_empty(),
            "the generator wrote no {lang} SDK"
        );
        all.extend(differences(&fresh, &root.join("sdk").join(lang)));
    }
    let _ = std::fs::remove_dir_all(&out);
    assert!(
        all.is_empty(),
        "sdk/ and schema.json disagree (run `make sdk` and commit the result):\n  {}",
        all.join("\n  ")
    );
}

/// The comparison itself sees an edited, an added and a removed file.
#[test]
fn the_comparison_catches_every_kind_of_drift() {
    let base = std::env::temp_dir().join(defang_tests::unique("sdk-drift-self-"));
    let (fresh, committed) = (base.join("fresh"), base.join("committed"));
    for dir in [&fresh, &committed] {
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("same.ts"), "a").unwrap();
    }
    assert!(differences(&fresh, &committed).is_empty());
    std::fs::write(fresh.join("sub/edited.ts"), "new").unwrap();
    std::fs::write(committed.join("sub/edited.ts"), "old").unwrap();
    std::fs::write(fresh.join("added.ts"), "x").unwrap();
    std::fs::write(committed.join("removed.ts"), "x").unwrap();
    let found = differences(&fresh, &committed).join("\n");
    let _ = std::fs::remove_dir_all(&base);
    for expected in [
        "sub/edited.ts: differs",
        "added.ts: generated, not committed",
        "removed.ts: committed, no longer generated",
    ] {
        assert!(found.contains(expected), "{expected} not in:\n{found}");
    }
}

/// The schema's descriptions become what a user's editor shows: JSDoc in the TypeScript
/// sources (tsc carries it into the `.d.ts`; the TypeScript end-to-end test checks those),
/// docstrings in Python, doc comments in Go. (Python's `:param` lines carry an input's text
/// after its type, hence the `": line"` form.)
#[test]
fn descriptions_reach_the_doc_comments_of_every_sdk() {
    let root = defang_tests::repo_root();
    let schema = defang_tests::languages::docs::schema();
    let sources = |dir: &str, ext: &str| -> String {
        let dir = root.join("sdk").join(dir);
        files(&dir)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == ext))
            .map(|p| std::fs::read_to_string(dir.join(p)).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let languages = [
        ("TypeScript", sources("nodejs", "ts"), "* "),
        ("Python", sources("python", "py"), ""),
        ("Go", sources("go", "go"), "// "),
    ];
    let all = descriptions(&schema);
    assert!(all.len() > 50, "only {} descriptions", all.len());
    let mut missing = Vec::new();
    for (language, source, prefix) in &languages {
        for (at, text) in &all {
            for line in undocumented(text, source, prefix) {
                missing.push(format!("{language}: {at}: {line:?}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "descriptions missing from the SDKs:\n  {}",
        missing.join("\n  ")
    );
}

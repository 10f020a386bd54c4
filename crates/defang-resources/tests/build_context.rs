//! Build contexts on real folders: what the archive holds, that it is reproducible, and that the
//! digest moves exactly with it.

use defang_resources::build::{
    ARCHIVE_MTIME, BuildError, PackagedContext, context_digest, package_context,
};
use flate2::read::GzDecoder;
use std::fs::{self, File};
use std::io::Read;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use tempfile::TempDir;

/// One archive entry, as a reader sees it.
#[derive(Debug, PartialEq, Eq)]
struct Entry {
    path: String,
    kind: char,
    mode: u32,
    /// File content, or symlink target.
    data: Vec<u8>,
}

fn write(root: &Path, rel: &str, content: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

fn chmod(root: &Path, rel: &str, mode: u32) {
    fs::set_permissions(root.join(rel), fs::Permissions::from_mode(mode)).unwrap();
}

/// A small app: a Dockerfile, sources, an executable script, an empty folder.
fn app() -> TempDir {
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    write(root, "Dockerfile", "FROM scratch\nCOPY . /app\n");
    write(root, "src/main.rs", "fn main() {}\n");
    write(root, "src/lib/util.rs", "pub fn util() {}\n");
    write(root, "run.sh", "#!/bin/sh\necho hi\n");
    chmod(root, "run.sh", 0o755);
    fs::create_dir_all(root.join("data/empty")).unwrap();
    dir
}

fn package(root: &Path) -> (PackagedContext, Vec<u8>) {
    package_with(root, None)
}

fn package_with(root: &Path, dockerfile: Option<&str>) -> (PackagedContext, Vec<u8>) {
    let out_dir = TempDir::new().unwrap();
    let out = out_dir.path().join("context.tar.gz");
    let packaged = package_context(root, dockerfile, &out).unwrap();
    let bytes = fs::read(&out).unwrap();
    assert!(!out_dir.path().join("context.tar.gz.partial").exists());
    (packaged, bytes)
}

fn entries(archive: &[u8]) -> Vec<Entry> {
    let mut tar = tar::Archive::new(GzDecoder::new(archive));
    let mut out = Vec::new();
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let header = entry.header().clone();
        assert_eq!(header.mtime().unwrap(), ARCHIVE_MTIME);
        assert_eq!((header.uid().unwrap(), header.gid().unwrap()), (0, 0));
        assert_eq!(header.username_bytes(), Some(&b""[..]));
        assert_eq!(header.groupname_bytes(), Some(&b""[..]));
        let kind = match header.entry_type() {
            tar::EntryType::Directory => 'd',
            tar::EntryType::Regular => 'f',
            tar::EntryType::Symlink => 'l',
            other => panic!("unexpected entry type {other:?}"),
        };
        let path = String::from_utf8(entry.path_bytes().into_owned()).unwrap();
        let mut data = Vec::new();
        if kind == 'l' {
            data = entry.link_name_bytes().unwrap().into_owned();
        } else {
            entry.read_to_end(&mut data).unwrap();
        }
        out.push(Entry {
            path,
            kind,
            mode: header.mode().unwrap(),
            data,
        });
    }
    out
}

fn paths(archive: &[u8]) -> Vec<String> {
    entries(archive).into_iter().map(|e| e.path).collect()
}

fn digest(root: &Path) -> String {
    context_digest(root, None).unwrap()
}

/// Copies a tree anew: other inode order, other times, other non-exec permission bits.
fn copy_tree(from: &Path, to: &Path) {
    let mut names: Vec<_> = fs::read_dir(from).unwrap().map(|e| e.unwrap()).collect();
    names.sort_by_key(|e| std::cmp::Reverse(e.file_name()));
    for entry in names {
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type().unwrap();
        if kind.is_symlink() {
            symlink(fs::read_link(&src).unwrap(), &dst).unwrap();
        } else if kind.is_dir() {
            fs::create_dir(&dst).unwrap();
            chmod(to, entry.file_name().to_str().unwrap(), 0o700);
            copy_tree(&src, &dst);
        } else {
            fs::copy(&src, &dst).unwrap();
            let exec = fs::metadata(&src).unwrap().permissions().mode() & 0o111 != 0;
            let mode = if exec { 0o700 } else { 0o600 };
            fs::set_permissions(&dst, fs::Permissions::from_mode(mode)).unwrap();
            let old = SystemTime::now() - Duration::from_secs(86_400 * 400);
            File::options()
                .write(true)
                .open(&dst)
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
    }
}

#[test]
fn same_files_same_bytes_anywhere() {
    let dir = app();
    symlink("src/main.rs", dir.path().join("link")).unwrap();
    let (first, bytes1) = package(dir.path());
    let (second, bytes2) = package(dir.path());
    assert_eq!(bytes1, bytes2);
    assert_eq!(first.sha256, second.sha256);

    let copy = TempDir::new().unwrap();
    copy_tree(dir.path(), copy.path());
    let (copied, bytes3) = package(copy.path());
    assert_eq!(
        bytes1, bytes3,
        "a copy with other times and modes packs the same"
    );
    assert_eq!(first.sha256, copied.sha256);
    assert_eq!(first.context_digest, copied.context_digest);
    assert_eq!(first.context_digest, digest(copy.path()));
    assert_eq!(first.bytes, bytes1.len() as u64);
    assert_eq!(first.files, 4);
    assert_eq!(first.sha256.len(), 64);
}

#[test]
fn entries_are_sorted_and_normalised() {
    let dir = app();
    write(dir.path(), "a.txt", "a");
    write(dir.path(), "a/b.txt", "b");
    chmod(dir.path(), "a.txt", 0o664);
    let (_, bytes) = package(dir.path());
    let all = entries(&bytes);
    let listed: Vec<_> = all
        .iter()
        .map(|e| (e.path.as_str(), e.kind, e.mode))
        .collect();
    assert_eq!(
        listed,
        [
            ("Dockerfile", 'f', 0o644),
            ("a/", 'd', 0o755),
            ("a/b.txt", 'f', 0o644),
            ("a.txt", 'f', 0o644),
            ("data/", 'd', 0o755),
            ("data/empty/", 'd', 0o755),
            ("run.sh", 'f', 0o755),
            ("src/", 'd', 0o755),
            ("src/lib/", 'd', 0o755),
            ("src/lib/util.rs", 'f', 0o644),
            ("src/main.rs", 'f', 0o644),
        ]
    );
    assert_eq!(all[2].data, b"b");
}

#[test]
fn gzip_header_has_no_name_or_time() {
    let (_, bytes) = package(app().path());
    assert_eq!(&bytes[..3], &[0x1f, 0x8b, 8], "gzip, deflate");
    assert_eq!(bytes[3], 0, "no FNAME, FCOMMENT or FEXTRA");
    assert_eq!(&bytes[4..8], &[0, 0, 0, 0], "no mtime");
    assert_eq!(bytes[9], 255, "OS unknown");
}

#[test]
fn exec_bit_is_kept_and_nothing_else() {
    let dir = app();
    let (_, before) = package(dir.path());
    chmod(dir.path(), "src/main.rs", 0o600);
    chmod(dir.path(), "run.sh", 0o500);
    assert_eq!(package(dir.path()).1, before, "only the exec bit counts");
    chmod(dir.path(), "src/main.rs", 0o744);
    let (_, after) = package(dir.path());
    let main = entries(&after)
        .into_iter()
        .find(|e| e.path == "src/main.rs")
        .unwrap();
    assert_eq!(main.mode, 0o755);
}

#[test]
fn dockerignore_is_honoured() {
    let dir = app();
    let root = dir.path();
    write(
        root,
        ".dockerignore",
        "# build outputs\ntarget\n*.log\n**/*.tmp\nnode_modules\n!node_modules/keep/**\ndocs/*.md\n!docs/README.md\n",
    );
    write(root, "target/debug/app", "bin");
    write(root, "build.log", "log");
    write(
        root,
        "sub/build.log",
        "kept: *.log only matches at the root",
    );
    write(root, "sub/deep/x.tmp", "tmp");
    write(root, "node_modules/lib/index.js", "lib");
    write(root, "node_modules/keep/a.js", "keep");
    write(root, "docs/guide.md", "guide");
    write(root, "docs/README.md", "readme");
    let (_, bytes) = package(root);
    let listed = paths(&bytes);
    for kept in [
        ".dockerignore",
        "sub/build.log",
        "sub/deep/",
        "node_modules/",
        "node_modules/keep/",
        "node_modules/keep/a.js",
        "docs/README.md",
    ] {
        assert!(
            listed.contains(&kept.to_string()),
            "{kept} should be kept: {listed:?}"
        );
    }
    for gone in [
        "target/",
        "target/debug/app",
        "build.log",
        "sub/deep/x.tmp",
        "node_modules/lib/",
        "node_modules/lib/index.js",
        "docs/guide.md",
    ] {
        assert!(
            !listed.contains(&gone.to_string()),
            "{gone} should be excluded"
        );
    }
}

#[test]
fn excluded_folder_is_sent_only_for_what_it_keeps() {
    let dir = app();
    let root = dir.path();
    write(root, ".dockerignore", "vendor\n!vendor/keep.txt\n");
    write(root, "vendor/keep.txt", "k");
    write(root, "vendor/drop.txt", "d");
    fs::create_dir_all(root.join("vendor/empty")).unwrap();
    let listed = paths(&package(root).1);
    assert!(listed.contains(&"vendor/".to_string()));
    assert!(listed.contains(&"vendor/keep.txt".to_string()));
    assert!(!listed.contains(&"vendor/drop.txt".to_string()));
    assert!(!listed.contains(&"vendor/empty/".to_string()));
}

#[test]
fn dockerfile_and_dockerignore_are_sent_even_if_ignored() {
    let dir = app();
    write(dir.path(), ".dockerignore", "*\n");
    assert_eq!(
        paths(&package(dir.path()).1),
        [".dockerignore", "Dockerfile"]
    );

    // A Dockerfile inside an excluded folder, with its own ignore file (BuildKit prefers
    // `<Dockerfile>.dockerignore` over the root one).
    let dir = app();
    let root = dir.path();
    write(root, ".dockerignore", "src\n");
    write(root, "docker/web.Dockerfile", "FROM scratch\n");
    write(
        root,
        "docker/web.Dockerfile.dockerignore",
        "docker\nrun.sh\n",
    );
    let listed = paths(&package_with(root, Some("./docker/web.Dockerfile")).1);
    assert_eq!(
        listed,
        [
            ".dockerignore",
            "Dockerfile",
            "data/",
            "data/empty/",
            "docker/",
            "docker/web.Dockerfile",
            "docker/web.Dockerfile.dockerignore",
            "src/",
            "src/lib/",
            "src/lib/util.rs",
            "src/main.rs",
        ]
    );
}

#[test]
fn symlinks_are_stored_not_followed() {
    let dir = app();
    let root = dir.path();
    let outside = TempDir::new().unwrap();
    write(outside.path(), "secret.txt", "do not send");
    symlink("src/main.rs", root.join("rel")).unwrap();
    symlink(outside.path().join("secret.txt"), root.join("abs")).unwrap();
    symlink("../../elsewhere", root.join("up")).unwrap();
    symlink("missing", root.join("dangling")).unwrap();
    symlink(outside.path(), root.join("dirlink")).unwrap();
    let (_, bytes) = package(root);
    let links: Vec<_> = entries(&bytes)
        .into_iter()
        .filter(|e| e.kind == 'l')
        .map(|e| (e.path, String::from_utf8(e.data).unwrap(), e.mode))
        .collect();
    let outside_text = outside.path().display().to_string();
    assert_eq!(
        links,
        [
            (
                "abs".to_string(),
                format!("{outside_text}/secret.txt"),
                0o777
            ),
            ("dangling".into(), "missing".into(), 0o777),
            ("dirlink".into(), outside_text.clone(), 0o777),
            ("rel".into(), "src/main.rs".into(), 0o777),
            ("up".into(), "../../elsewhere".into(), 0o777),
        ]
    );
    assert!(!paths(&bytes).iter().any(|p| p.contains("secret")));
    // Retargeting a link changes the digest.
    let before = digest(root);
    fs::remove_file(root.join("rel")).unwrap();
    symlink("run.sh", root.join("rel")).unwrap();
    assert_ne!(digest(root), before);
}

#[test]
fn unicode_and_long_names_round_trip() {
    let dir = app();
    let root = dir.path();
    let long = format!("{}/{}.txt", "d".repeat(90), "n".repeat(120));
    for name in [
        "café/naïve.txt",
        "日本語.txt",
        "emoji-🚀.md",
        "e\u{301}.txt",
        "é.txt",
        &long,
    ] {
        write(root, name, name);
    }
    symlink("t".repeat(150), root.join("longlink")).unwrap();
    let all = entries(&package(root).1);
    for name in [
        "café/naïve.txt",
        "日本語.txt",
        "emoji-🚀.md",
        "e\u{301}.txt",
        "é.txt",
        &long,
    ] {
        let entry = all.iter().find(|e| e.path == *name).expect(name);
        assert_eq!(entry.data, name.as_bytes(), "content of {name}");
    }
    let link = all.iter().find(|e| e.path == "longlink").unwrap();
    assert_eq!(link.data, "t".repeat(150).as_bytes());
    // Unicode in .dockerignore patterns.
    write(root, ".dockerignore", "café\n日本*\n");
    let listed = paths(&package(root).1);
    assert!(
        !listed
            .iter()
            .any(|p| p.starts_with("café") || p.starts_with("日本"))
    );
    assert!(listed.contains(&"é.txt".to_string()));
}

#[test]
fn names_that_are_not_utf8_are_kept_as_bytes() {
    use std::os::unix::ffi::OsStrExt;
    let dir = app();
    let name = std::ffi::OsStr::from_bytes(b"bad\xff.bin");
    fs::write(dir.path().join(name), "x").unwrap();
    let (_, bytes) = package(dir.path());
    let mut tar = tar::Archive::new(GzDecoder::new(&bytes[..]));
    let found = tar
        .entries()
        .unwrap()
        .any(|e| &*e.unwrap().path_bytes() == b"bad\xff.bin");
    assert!(found);
    // Matched as text with U+FFFD in place of the bad byte, as Docker does.
    write(dir.path(), ".dockerignore", "*.bin\n");
    let (_, bytes) = package(dir.path());
    let mut tar = tar::Archive::new(GzDecoder::new(&bytes[..]));
    assert!(
        !tar.entries()
            .unwrap()
            .any(|e| e.unwrap().path_bytes().ends_with(b".bin"))
    );
}

#[test]
fn special_files_are_skipped() {
    let dir = app();
    let fifo = dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("mkfifo unavailable; skipped");
        return;
    }
    let listed = paths(&package(dir.path()).1);
    assert!(!listed.contains(&"pipe".to_string()));
}

#[test]
fn digest_moves_exactly_with_the_archive() {
    let dir = app();
    let root = dir.path();
    write(root, ".dockerignore", "*.log\n");
    let (packed, _) = package(root);
    let base = digest(root);
    assert_eq!(base, packed.context_digest);

    // Only the time changes: neither changes.
    let later = SystemTime::now() + Duration::from_secs(3600);
    let file = File::options()
        .write(true)
        .open(root.join("src/main.rs"))
        .unwrap();
    file.set_modified(later).unwrap();
    assert_eq!(digest(root), base);
    assert_eq!(package(root).0.sha256, packed.sha256);

    // An ignored file appears: neither changes.
    write(root, "debug.log", "noise");
    assert_eq!(digest(root), base);
    assert_eq!(package(root).0.sha256, packed.sha256);

    // A source file is edited: both change.
    write(root, "src/main.rs", "fn main() { println!(\"v2\"); }\n");
    let edited = package(root).0;
    assert_ne!(digest(root), base);
    assert_ne!(edited.sha256, packed.sha256);
    assert_eq!(edited.context_digest, digest(root));

    // A new empty folder, a renamed file, an exec bit: each changes both.
    let mut last = (edited.sha256, edited.context_digest);
    let changes: [&dyn Fn(); 3] = [
        &|| fs::create_dir(root.join("newdir")).unwrap(),
        &|| fs::rename(root.join("src/lib/util.rs"), root.join("src/lib/utils.rs")).unwrap(),
        &|| chmod(root, "Dockerfile", 0o755),
    ];
    for (i, change) in changes.iter().enumerate() {
        change();
        let now = package(root).0;
        assert_ne!(now.sha256, last.0, "change {i}: archive");
        assert_ne!(now.context_digest, last.1, "change {i}: digest");
        assert_eq!(now.context_digest, digest(root));
        last = (now.sha256, now.context_digest);
    }
}

fn error(context: &Path, dockerfile: Option<&str>) -> BuildError {
    let out = TempDir::new().unwrap();
    let err = package_context(context, dockerfile, &out.path().join("c.tgz")).unwrap_err();
    // The digest reports the same problem.
    let again = context_digest(context, dockerfile).unwrap_err();
    assert_eq!(err.to_string(), again.to_string());
    err
}

#[test]
fn errors_name_the_path_and_the_fix() {
    let cwd = std::env::current_dir().unwrap();
    let err = error(Path::new("no-such-app"), None);
    assert_eq!(
        err.to_string(),
        format!(
            "build.context: folder ./no-such-app does not exist (relative to {})",
            cwd.display()
        )
    );
    assert_eq!(err.property(), "build.context");

    let dir = app();
    let root = dir.path();
    let err = error(&root.join("run.sh"), None);
    assert!(err.to_string().contains("is not a folder"), "{err}");

    let err = error(root, Some("web.Dockerfile"));
    let shown = format!("{}/web.Dockerfile", root.display());
    assert_eq!(
        err.to_string(),
        format!(
            "build.dockerfile: {shown} does not exist; create it, or set build.dockerfile to \
             the Dockerfile's path relative to build.context ({})",
            root.display()
        )
    );
    assert_eq!(err.property(), "build.dockerfile");

    let err = error(root, Some("../Dockerfile"));
    assert!(err.to_string().contains("stays inside it"), "{err}");
    let err = error(root, Some("src"));
    assert!(err.to_string().contains("is not a file"), "{err}");

    let outside = TempDir::new().unwrap();
    write(outside.path(), "Dockerfile", "FROM scratch\n");
    symlink(
        outside.path().join("Dockerfile"),
        root.join("linked.Dockerfile"),
    )
    .unwrap();
    let err = error(root, Some("linked.Dockerfile"));
    assert!(err.to_string().contains("outside build.context"), "{err}");
    // A link that stays inside the context is fine.
    symlink("Dockerfile", root.join("inside.Dockerfile")).unwrap();
    context_digest(root, Some("inside.Dockerfile")).unwrap();

    write(root, ".dockerignore", "ok\n\n[unclosed\n");
    let err = error(root, None);
    assert_eq!(
        err.to_string(),
        format!(
            "build.context: {}/.dockerignore line 3: \"[unclosed\" has a [ without its \
             closing ]; fix or remove the line",
            root.display()
        )
    );
}

#[test]
fn unreadable_files_are_reported_unless_excluded() {
    let dir = app();
    let root = dir.path();
    write(root, "secret.pem", "key");
    chmod(root, "secret.pem", 0o000);
    if File::open(root.join("secret.pem")).is_ok() {
        eprintln!("running as root: permissions are not enforced; skipped");
        return;
    }
    let err = error(root, None);
    assert!(
        err.to_string().starts_with(&format!(
            "build.context: cannot read {}/secret.pem: ",
            root.display()
        )),
        "{err}"
    );
    assert!(
        err.to_string()
            .ends_with("make it readable, or exclude it in .dockerignore")
    );
    write(root, ".dockerignore", "*.pem\n");
    context_digest(root, None).unwrap();
}

#[test]
fn write_errors_name_the_archive() {
    let dir = app();
    let out = dir.path().join("no/such/folder/c.tgz");
    let err = package_context(dir.path(), None, &out).unwrap_err();
    assert!(matches!(err, BuildError::Write { .. }), "{err}");
    assert!(err.to_string().contains("no/such/folder/c.tgz"), "{err}");

    let err = package_context(dir.path(), None, &dir.path().join("src/c.tgz")).unwrap_err();
    assert!(
        err.to_string().contains("inside the build context"),
        "{err}"
    );
    assert!(!dir.path().join("src/c.tgz.partial").exists());
}

#[test]
fn a_relative_context_resolves_against_the_working_directory() {
    // Tests run in the crate folder, which has a Cargo.toml but no Dockerfile.
    let err = context_digest(Path::new("."), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "build.dockerfile: ./Dockerfile does not exist; create it, or set build.dockerfile to \
         the Dockerfile's path relative to build.context (.)"
    );
    let _ = PathBuf::new();
}

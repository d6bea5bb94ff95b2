//! What `Embed::write_to` writes: the table's paths, types, tags and gzip copies, which
//! files are compressed, skipped or kept plain, and that the output does not change between
//! runs.

use std::io::Read as _;

use embed_assets::{etag, Embed};

fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir_all(p.join("sub/deeper")).unwrap();
    std::fs::create_dir_all(p.join(".git")).unwrap();
    std::fs::write(p.join("index.html"), "<p>hello</p>\n".repeat(50)).unwrap();
    std::fs::write(p.join("tiny.txt"), "x").unwrap();
    std::fs::write(p.join("logo.PNG"), vec![0u8; 500]).unwrap();
    std::fs::write(p.join("sub/deeper/data.json"), "[1,2,3,4]".repeat(40)).unwrap();
    std::fs::write(p.join("sub/a b.css"), "p{}".repeat(40)).unwrap();
    std::fs::write(p.join(".hidden"), "secret").unwrap();
    std::fs::write(p.join(".git/config"), "secret").unwrap();
    std::fs::write(p.join("noext"), "").unwrap();
    dir
}

#[test]
fn files_types_tags_and_gzip_copies() {
    let src = fixture();
    let out = tempfile::tempdir().unwrap();
    let report = Embed::new(src.path()).write_to(out.path()).unwrap();
    let summary: Vec<(&str, &str, bool)> = report
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.content_type, f.gzip.is_some()))
        .collect();
    assert_eq!(
        summary,
        [
            ("index.html", "text/html; charset=utf-8", true),
            ("logo.PNG", "image/png", false), // compressed already: never gzipped
            ("noext", "application/octet-stream", false), // empty: gzip is larger
            ("sub/a b.css", "text/css; charset=utf-8", true),
            ("sub/deeper/data.json", "application/json", true),
            ("tiny.txt", "text/plain; charset=utf-8", false), // gzip is larger
        ]
    );
    for f in &report.files {
        let bytes = std::fs::read(&f.source).unwrap();
        assert_eq!(f.size, bytes.len());
        assert_eq!(f.etag, etag(&bytes));
        assert_eq!(f.etag.len(), 18);
        if let Some((gz, size)) = &f.gzip {
            let gz = std::fs::read(gz).unwrap();
            assert_eq!(gz.len(), *size);
            let mut decoded = Vec::new();
            flate2::read::GzDecoder::new(&gz[..])
                .read_to_end(&mut decoded)
                .unwrap();
            assert_eq!(decoded, bytes);
        }
    }
    let code = std::fs::read_to_string(&report.rust_file).unwrap();
    assert!(code.contains("static ASSETS_FILES: [::embedded_responder::assets::Asset; 6] = ["));
    assert!(code.contains("pub static ASSETS: ::embedded_responder::assets::Assets ="));
    assert!(code.contains(".with_gzip(include_bytes!("));
    assert!(!code.contains("secret") && !code.contains(".hidden"));
    let total: usize = report
        .files
        .iter()
        .map(|f| f.size + f.gzip.as_ref().map_or(0, |g| g.1))
        .sum();
    assert_eq!(report.flash_bytes(), total);
}

#[test]
fn the_same_input_writes_the_same_output() {
    let src = fixture();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ra = Embed::new(src.path()).write_to(a.path()).unwrap();
    let rb = Embed::new(src.path()).write_to(b.path()).unwrap();
    for (fa, fb) in ra.files.iter().zip(&rb.files) {
        assert_eq!(fa.etag, fb.etag);
        if let (Some(ga), Some(gb)) = (&fa.gzip, &fb.gzip) {
            assert_eq!(std::fs::read(&ga.0).unwrap(), std::fs::read(&gb.0).unwrap());
        }
    }
    let code = |r: &embed_assets::Report, dir: &std::path::Path| {
        std::fs::read_to_string(&r.rust_file)
            .unwrap()
            .replace(dir.to_str().unwrap(), "OUT")
    };
    assert_eq!(code(&ra, a.path()), code(&rb, b.path()));
}

#[test]
fn options_name_the_table_and_limit_compression() {
    let src = fixture();
    let out = tempfile::tempdir().unwrap();
    let report = Embed::new(src.path())
        .name("UI")
        .file_name("ui.rs")
        .crate_path("crate::er")
        .cache_control("max-age=600")
        .min_saving(100)
        .write_to(out.path())
        .unwrap();
    assert!(report.files.iter().all(|f| f.gzip.is_none()));
    let code = std::fs::read_to_string(out.path().join("ui.rs")).unwrap();
    assert!(code.contains("static UI_FILES: [crate::er::assets::Asset; 6]"));
    assert!(
        code.contains("crate::er::assets::Assets::new(&UI_FILES).cache_control(\"max-age=600\");")
    );

    let report = Embed::new(src.path())
        .compress(false)
        .write_to(out.path())
        .unwrap();
    assert!(report.files.iter().all(|f| f.gzip.is_none()));
    assert!(Embed::new(src.path().join("missing"))
        .write_to(out.path())
        .is_err());
}

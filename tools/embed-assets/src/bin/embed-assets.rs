//! `embed-assets DIR [OUT_DIR]`: write the table for DIR (into OUT_DIR, by default a
//! temporary folder) and print what each file costs in flash.

fn main() {
    let mut args = std::env::args_os().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: embed-assets DIR [OUT_DIR]");
        std::process::exit(2);
    };
    let out = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("embed-assets"));
    let result =
        std::fs::create_dir_all(&out).and_then(|()| embed_assets::Embed::new(dir).write_to(&out));
    match result {
        Ok(report) => {
            for f in &report.files {
                let gz = f.gzip.as_ref().map_or("-".to_string(), |g| g.1.to_string());
                println!(
                    "{:>8} {:>8}  {}  {}  {}",
                    f.size, gz, f.etag, f.path, f.content_type
                );
            }
            println!(
                "{:>8} bytes of file contents in flash; table: {}",
                report.flash_bytes(),
                report.rust_file.display()
            );
        }
        Err(e) => {
            eprintln!("embed-assets: {e}");
            std::process::exit(1);
        }
    }
}

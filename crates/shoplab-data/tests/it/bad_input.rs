//! Every kind of bad input gets a clear error (file, line, column where it applies) and
//! leaves the workspace exactly as it was.

use std::io::Write;
use std::path::{Path, PathBuf};

use shoplab_data::{DataError, ImportOptions, Workspace};

use crate::scalar;

const REES_HEADER: &str =
    "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session";

fn rees_row(t: &str, ty: &str, product: u32, price: &str, user: u32) -> String {
    format!(
        "{t},{ty},{product},2053013555631882655,electronics.smartphone,acme,{price},{user},s-{user}"
    )
}

struct Fixture {
    dir: tempfile::TempDir,
    ws: Workspace,
}

impl Fixture {
    /// A workspace that already holds one good import, so "unchanged" means something.
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::create(dir.path().join("ws.duckdb")).unwrap();
        let good = write(
            dir.path(),
            "good.csv",
            &[
                REES_HEADER.to_string(),
                rees_row("2019-10-01 00:00:00 UTC", "view", 1, "9.99", 7),
            ]
            .join("\n"),
        );
        ws.import(&good, &ImportOptions::default()).unwrap();
        Fixture { dir, ws }
    }

    fn file(&self, name: &str, body: &str) -> PathBuf {
        write(self.dir.path(), name, body)
    }

    fn bytes(&self, name: &str, body: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p
    }

    fn state(&self) -> Vec<(String, u64)> {
        self.ws
            .table_counts()
            .unwrap()
            .into_iter()
            .map(|t| (t.table, t.rows))
            .collect()
    }

    /// Imports and expects failure; checks the workspace did not change.
    fn fails(&self, path: &Path) -> String {
        let before = self.state();
        let err = self
            .ws
            .import(path, &ImportOptions::default())
            .expect_err("import should fail");
        assert_eq!(before, self.state(), "workspace changed by a failed import");
        let msg = err.to_string();
        assert!(
            msg.contains(&path.display().to_string()),
            "error does not name the file: {msg}"
        );
        msg
    }
}

fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

#[test]
fn empty_file() {
    let f = Fixture::new();
    let msg = f.fails(&f.file("empty.csv", ""));
    assert!(msg.contains("empty"), "{msg}");
}

#[test]
fn header_only() {
    let f = Fixture::new();
    let msg = f.fails(&f.file("header.csv", &format!("{REES_HEADER}\n")));
    assert!(msg.contains("no data rows"), "{msg}");
}

#[test]
fn truncated_gzip() {
    let f = Fixture::new();
    let mut enc = Vec::new();
    {
        // A real gzip stream of many rows, cut in the middle.
        let mut body = String::from(REES_HEADER);
        for i in 0..20_000 {
            body.push('\n');
            body.push_str(&rees_row("2019-10-01 00:00:00 UTC", "view", i, "1.00", i));
        }
        let out = std::process::Command::new("gzip")
            .arg("-c")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                c.stdin.take().unwrap().write_all(body.as_bytes())?;
                c.wait_with_output()
            })
            .unwrap();
        enc.extend_from_slice(&out.stdout[..out.stdout.len() / 2]);
    }
    let msg = f.fails(&f.bytes("cut.csv.gz", &enc));
    assert!(
        msg.to_lowercase().contains("gzip")
            || msg.contains("truncated")
            || msg.contains("compress"),
        "{msg}"
    );
}

#[test]
fn semicolon_delimiter_is_recognized() {
    let f = Fixture::new();
    let body = format!(
        "{}\n{}\n",
        REES_HEADER.replace(',', ";"),
        rees_row("2019-10-02 10:00:00 UTC", "purchase", 5, "3.50", 9).replace(',', ";")
    );
    let r =
        f.ws.import(&f.file("semi.csv", &body), &ImportOptions::default())
            .unwrap();
    assert_eq!((r.format.as_str(), r.rows_loaded), ("rees46", 1));
}

#[test]
fn wrong_delimiter_in_a_mapping() {
    let f = Fixture::new();
    let body = format!(
        "{}\n{}\n",
        REES_HEADER.replace(',', ";"),
        rees_row("2019-10-02 10:00:00 UTC", "purchase", 5, "3.50", 9).replace(',', ";")
    );
    let path = f.file("semi2.csv", &body);
    let (_, mut mapping) = f.ws.inspect_file(&path, &ImportOptions::default()).unwrap();
    mapping.csv.as_mut().unwrap().delimiter = ",".into();
    let before = f.state();
    let err =
        f.ws.import(
            &path,
            &ImportOptions {
                mapping: Some(mapping),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(before, f.state());
    let msg = err.to_string();
    assert!(
        msg.contains("semi2.csv") && msg.contains("does not have"),
        "{msg}"
    );
}

#[test]
fn utf8_bom() {
    let f = Fixture::new();
    let body = format!(
        "\u{feff}{REES_HEADER}\n{}\n",
        rees_row("2019-10-02 10:00:00 UTC", "cart", 5, "3.50", 9)
    );
    let r =
        f.ws.import(&f.file("bom.csv", &body), &ImportOptions::default())
            .unwrap();
    assert_eq!((r.format.as_str(), r.rows_loaded), ("rees46", 1));
}

#[test]
fn latin1_bytes() {
    let f = Fixture::new();
    let mut body = b"item_id,title,category,price\n1,Caf".to_vec();
    body.extend_from_slice(&[0xe9]); // é in Latin-1
    body.extend_from_slice(b" cr\xe8me,kitchen,4.50\n2,Teapot,kitchen,12.00\n");
    let path = f.bytes("latin1.csv", &body);
    let r =
        f.ws.import(
            &path,
            &ImportOptions {
                kind: Some(shoplab_data::Target::Items),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(r.rows_loaded, 2);
    let title: String =
        f.ws.connection()
            .query_row("SELECT title FROM items WHERE item_id = '1'", [], |r| {
                r.get(0)
            })
            .unwrap();
    assert_eq!(title, "Café crème");
}

#[test]
fn missing_required_columns() {
    let f = Fixture::new();
    let msg = f.fails(&f.file(
        "noid.csv",
        "when,what,amount\n2019-10-01,view,3\n2019-10-02,cart,4\n",
    ));
    assert!(
        msg.contains("not recognized") && msg.contains("when, what, amount"),
        "{msg}"
    );
}

#[test]
fn unknown_event_types_are_rejected_with_line_and_column() {
    let f = Fixture::new();
    let body = [
        REES_HEADER.to_string(),
        rees_row("2019-10-02 10:00:00 UTC", "view", 1, "1.00", 1),
        rees_row("2019-10-02 10:00:01 UTC", "teleport", 1, "1.00", 1),
        rees_row("2019-10-02 10:00:02 UTC", "purchase", 1, "1.00", 1),
    ]
    .join("\n");
    let r =
        f.ws.import(&f.file("types.csv", &body), &ImportOptions::default())
            .unwrap();
    assert_eq!((r.rows_read, r.rows_loaded, r.rows_rejected), (3, 2, 1));
    let rej = &r.rejects[0];
    assert_eq!(rej.line, Some(3));
    assert_eq!(rej.column.as_deref(), Some("event_type"));
    assert!(rej.reason.contains("'teleport'"), "{}", rej.reason);
    assert!(rej.raw.as_deref().unwrap().contains("teleport"));
}

#[test]
fn negative_nan_and_text_prices() {
    let f = Fixture::new();
    let body = [
        REES_HEADER.to_string(),
        rees_row("2019-10-02 10:00:00 UTC", "view", 1, "-3.00", 1),
        rees_row("2019-10-02 10:00:01 UTC", "view", 2, "NaN", 1),
        rees_row("2019-10-02 10:00:02 UTC", "view", 3, "cheap", 1),
        rees_row("2019-10-02 10:00:03 UTC", "view", 4, "\"$1,299.99 \"", 1),
        rees_row("2019-10-02 10:00:04 UTC", "view", 5, "", 1),
    ]
    .join("\n");
    let r =
        f.ws.import(&f.file("prices.csv", &body), &ImportOptions::default())
            .unwrap();
    assert_eq!((r.rows_loaded, r.rows_rejected), (2, 3));
    let lines: Vec<_> = r
        .rejects
        .iter()
        .map(|x| (x.line.unwrap(), x.column.clone().unwrap()))
        .collect();
    assert_eq!(
        lines,
        vec![
            (2, "price".into()),
            (3, "price".into()),
            (4, "price".into())
        ]
    );
    assert!(r.rejects[0].reason.contains("negative"));
    assert!(r.rejects[1].reason.contains("finite"));
    assert!(r.rejects[2].reason.contains("'cheap'"));
    assert_eq!(
        crate::fscalar(&f.ws, "SELECT price FROM events WHERE item_id = '4'"),
        1299.99
    );
    assert_eq!(
        scalar(
            &f.ws,
            "SELECT count(*) FROM events WHERE item_id = '5' AND price IS NULL"
        ),
        1
    );
}

#[test]
fn timestamps_in_several_formats() {
    let f = Fixture::new();
    let cases = [
        ("iso.csv", "2019-10-01T12:30:00"),
        ("utc.csv", "2019-10-01 12:30:00 UTC"),
        ("epoch_s.csv", "1569933000"),
        ("epoch_ms.csv", "1569933000000"),
    ];
    for (i, (name, t)) in cases.iter().enumerate() {
        let body = format!("user_id,item_id,event_type,timestamp\n{i},42,view,{t}\n");
        let r =
            f.ws.import(&f.file(name, &body), &ImportOptions::default())
                .unwrap();
        assert_eq!(r.rows_loaded, 1, "{name}: {:?}", r.rejects);
        let got: String =
            f.ws.connection()
                .query_row(
                    &format!(
                        "SELECT CAST(event_time AS VARCHAR) FROM events WHERE import_id = {}",
                        r.import_id
                    ),
                    [],
                    |r| r.get(0),
                )
                .unwrap();
        assert_eq!(got, "2019-10-01 12:30:00", "{name}");
    }
    // Mixed in one column.
    let body = "user_id,item_id,event_type,timestamp\n1,1,view,2019-10-01T12:30:00\n2,1,view,1569933000\n3,1,view,2019-10-01 12:30:00 UTC\n";
    let r =
        f.ws.import(&f.file("mixed.csv", body), &ImportOptions::default())
            .unwrap();
    assert_eq!(
        r.mapping.columns["event_time"].format.as_deref(),
        Some("mixed")
    );
    assert_eq!(r.rows_loaded, 3);
    assert_eq!(
        scalar(
            &f.ws,
            &format!(
                "SELECT count(DISTINCT event_time) FROM events WHERE import_id = {}",
                r.import_id
            )
        ),
        1
    );
}

#[test]
fn duplicated_rows() {
    let f = Fixture::new();
    let row = rees_row("2019-10-02 10:00:00 UTC", "view", 1, "1.00", 1);
    let body = [
        REES_HEADER.to_string(),
        row.clone(),
        row.clone(),
        row,
        rees_row("2019-10-02 10:00:09 UTC", "view", 2, "1.00", 1),
    ]
    .join("\n");
    let path = f.file("dups.csv", &body);
    let r =
        f.ws.import(
            &path,
            &ImportOptions {
                dedupe: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        (
            r.rows_read,
            r.rows_loaded,
            r.rows_duplicate,
            r.rows_rejected
        ),
        (4, 2, 2, 0)
    );
    // Without --dedupe they are kept, and the profile counts them.
    let other = f.file("dups2.csv", &format!("{body}\n"));
    let r = f.ws.import(&other, &ImportOptions::default()).unwrap();
    assert_eq!(r.rows_loaded, 4);
    assert!(f.ws.profile().unwrap().duplicate_events >= 2);
}

#[test]
fn very_long_line() {
    let f = Fixture::new();
    // A 3 MiB product description is read whole.
    let long = "x".repeat(3 << 20);
    let mut rows = vec![REES_HEADER.to_string()];
    for i in 0..10 {
        rows.push(rees_row("2019-10-02 10:00:00 UTC", "view", i, "1.00", 1));
    }
    rows.push(format!(
        "2019-10-02 10:00:00 UTC,view,99,1,{long},acme,1.00,1,s"
    ));
    rows.push(rees_row("2019-10-02 10:00:00 UTC", "cart", 7, "1.00", 1));
    let r =
        f.ws.import(
            &f.file("long.csv", &rows.join("\n")),
            &ImportOptions::default(),
        )
        .unwrap();
    assert_eq!((r.rows_loaded, r.rows_rejected), (12, 0));
    assert_eq!(
        scalar(&f.ws, "SELECT max(length(category)) FROM items"),
        3 << 20
    );
    // A 40 MiB line is over the limit: a clear error with the right line, nothing loaded.
    rows[11] = format!(
        "2019-10-02 10:00:00 UTC,view,99,1,{},acme,1.00,1,s",
        "y".repeat(40 << 20)
    );
    let path = f.file("longer.csv", &rows.join("\n"));
    let msg = f.fails(&path);
    assert!(
        msg.contains("line 12") && msg.contains("MiB"),
        "{}",
        &msg[..msg.len().min(300)]
    );
}

#[test]
fn wrong_column_count_is_rejected_with_its_line() {
    let f = Fixture::new();
    let body = [
        REES_HEADER.to_string(),
        rees_row("2019-10-02 10:00:00 UTC", "view", 1, "1.00", 1),
        "2019-10-02 10:00:00 UTC,view,2".to_string(),
        rees_row("2019-10-02 10:00:00 UTC", "view", 3, "-1.00", 1),
    ]
    .join("\n");
    let r =
        f.ws.import(&f.file("cols.csv", &body), &ImportOptions::default())
            .unwrap();
    assert_eq!((r.rows_read, r.rows_loaded, r.rows_rejected), (3, 1, 2));
    let lines: Vec<u64> = r.rejects.iter().filter_map(|x| x.line).collect();
    assert_eq!(lines, vec![3, 4], "{:?}", r.rejects);
    assert!(
        r.rejects[0].reason.contains("missing columns"),
        "{:?}",
        r.rejects[0]
    );
}

#[test]
fn not_a_table() {
    let f = Fixture::new();
    let msg = f.fails(&f.file(
        "notes.txt",
        "Meeting notes\nWe should look at the pricing of the new phones.\nAlso the funnel.\n",
    ));
    assert!(
        msg.contains("does not look like a table") || msg.contains("not recognized"),
        "{msg}"
    );
    let png: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    f.fails(&f.bytes("image.png", &png));
}

#[test]
fn workspace_that_is_not_duckdb() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("notes.duckdb");
    std::fs::write(&p, "this is a text file, not a database\n").unwrap();
    let err = Workspace::open(&p).err().expect("must refuse");
    assert!(matches!(err, DataError::NotAWorkspace { .. }), "{err}");
    assert!(err.to_string().contains("notes.duckdb"));
    // Nothing was written to it.
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        "this is a text file, not a database\n"
    );
}

/// Not a test: the other process of `workspace_locked_by_another_process`, which runs it;
/// holds a workspace open while a marker file exists.
#[test]
#[ignore = "helper process, started by workspace_locked_by_another_process"]
fn lock_holder() {
    let Some(path) = std::env::var_os("SHOPLAB_HOLD_WORKSPACE") else {
        return;
    };
    let ws = Workspace::open(PathBuf::from(&path)).unwrap();
    let marker = PathBuf::from(std::env::var_os("SHOPLAB_HOLD_MARKER").unwrap());
    std::fs::write(marker.with_extension("ready"), "").unwrap();
    for _ in 0..300 {
        if !marker.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    drop(ws);
}

#[test]
fn workspace_locked_by_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("ws.duckdb");
    drop(Workspace::create(&p).unwrap());
    let marker = dir.path().join("hold");
    std::fs::write(&marker, "").unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "bad_input::lock_holder",
            "--ignored",
            "--nocapture",
        ])
        .env("SHOPLAB_HOLD_WORKSPACE", &p)
        .env("SHOPLAB_HOLD_MARKER", &marker)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if marker.with_extension("ready").exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let err = Workspace::open(&p).err();
    std::fs::remove_file(&marker).unwrap();
    child.wait().unwrap();
    let err = err.expect("the workspace is locked by the child");
    assert!(matches!(err, DataError::WorkspaceLocked { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("ws.duckdb") && msg.contains("locked by another process"),
        "{msg}"
    );
    // Once the other process is gone it opens again.
    Workspace::open(&p).unwrap();
}

/// The single pass reads numbers and timestamps typed, as the sample (500 rows) showed
/// them; a later value the reader cannot type sends the file through the full parse.
#[test]
fn values_past_the_sample_get_the_full_parse() {
    let f = Fixture::new();
    let mut rows = vec![REES_HEADER.to_string()];
    rows.extend((1..=600).map(|u| rees_row("2019-10-02 10:00:00 UTC", "view", u, "1.00", u)));
    rows.push(rees_row(
        "2019-10-02 11:00:00 UTC",
        "purchase",
        601,
        "$7.50",
        1,
    ));
    rows.push(rees_row("1570000000", "view", 602, "2.00", 1));
    let r =
        f.ws.import(
            &f.file("late.csv", &rows.join("\n")),
            &ImportOptions::default(),
        )
        .unwrap();
    assert_eq!((r.rows_read, r.rows_loaded, r.rows_rejected), (602, 601, 1));
    assert_eq!(r.rejects[0].line, Some(603));
    assert_eq!(r.rejects[0].column.as_deref(), Some("event_time"));
    assert_eq!(
        crate::fscalar(&f.ws, "SELECT price FROM events WHERE item_id = '601'"),
        7.5
    );
    assert_eq!(
        crate::fscalar(&f.ws, "SELECT value FROM events WHERE item_id = '601'"),
        7.5
    );
}

/// Ids padded with spaces in the sample are trimmed, so they match the same ids elsewhere;
/// text is kept as written.
#[test]
fn padded_ids_are_trimmed() {
    let f = Fixture::new();
    let body = [
        REES_HEADER.to_string(),
        "2019-10-02 10:00:00 UTC, view,  1,2053013555631882655,electronics.smartphone, acme ,9.99,  7 ,s-7".into(),
        "2019-10-02 10:00:01 UTC,cart,1,2053013555631882655,electronics.smartphone,acme,9.99,7,s-7".into(),
    ]
    .join("\n");
    let r =
        f.ws.import(&f.file("padded.csv", &body), &ImportOptions::default())
            .unwrap();
    assert_eq!((r.rows_loaded, r.rows_rejected), (2, 0));
    assert_eq!(
        scalar(
            &f.ws,
            "SELECT count(DISTINCT user_id) FROM events WHERE user_id = '7' AND item_id = '1'"
        ),
        1
    );
    assert_eq!(
        scalar(
            &f.ws,
            "SELECT count(*) FROM events WHERE user_id = '7' AND event_type IN ('view', 'cart')"
        ),
        3
    );
    assert_eq!(
        scalar(&f.ws, "SELECT count(*) FROM events WHERE brand = ' acme '"),
        1
    );
}

/// Suspicious values load, are counted per import and in the profile, and each count comes
/// with a query that lists its rows: prices of 0, a timestamp years off, a repeated row.
#[test]
fn suspicious_values_are_counted_with_a_query_to_find_them() {
    let f = Fixture::new();
    let mut rows = vec![REES_HEADER.to_string()];
    rows.extend((1..=200).map(|u| {
        let t = format!("2019-10-02 {:02}:00:00 UTC", u % 24);
        rees_row(&t, "view", u, "5.00", u)
    }));
    rows.push(rees_row("2019-10-03 10:00:00 UTC", "purchase", 3, "0", 3));
    rows.push(rees_row("2019-10-03 10:00:00 UTC", "purchase", 3, "0", 3));
    rows.push(rees_row("1970-01-01 00:00:00 UTC", "view", 4, "5.00", 4));
    let p = f.file("odd.csv", &rows.join("\n"));
    let r = f.ws.import(&p, &ImportOptions::default()).unwrap();
    assert_eq!((r.rows_loaded, r.rows_rejected), (203, 0));
    let c = r.checks;
    assert_eq!(
        (
            c.refunds,
            c.guest_rows,
            c.zero_prices,
            c.far_times,
            c.repeated
        ),
        (0, 0, 2, 1, 1)
    );
    // Each finding's query lists exactly its rows.
    for finding in &r.findings {
        let n = scalar(&f.ws, &format!("SELECT count(*) FROM ({})", finding.query));
        let expected = if finding.what.starts_with("rows repeated") {
            1 // one group of copies
        } else {
            finding.rows as i64
        };
        assert_eq!(n, expected, "{}: {}", finding.what, finding.query);
    }
    // The profile counts them over the whole log (the fixture's first import included).
    let profile = f.ws.profile().unwrap();
    assert_eq!(
        (profile.checks.zero_prices, profile.checks.far_times),
        (2, 1)
    );
    assert_eq!(profile.duplicate_events, 1);
    let stored: i64 = scalar(
        &f.ws,
        &format!(
            "SELECT rows_zero_price + rows_far_time + rows_repeated FROM imports WHERE import_id = {}",
            r.import_id
        ),
    );
    assert_eq!(stored, 4);
}

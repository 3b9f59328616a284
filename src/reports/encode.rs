//! Export file encoding, pure: a header that records what the file is (org, filters, period,
//! generation time), rows in CSV or JSON written into a buffer the caller drains in chunks, and
//! the masking of personal data. No IO, so every byte it writes is unit-tested.

use chrono::NaiveDate;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::domain::reports::ReportFormat;

/// What a file says about itself, first thing in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportMeta {
    pub org: String,
    /// The dashboard view exported, as its URL query.
    pub query: String,
    pub grain: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub metrics: Vec<String>,
    pub generated_at: String,
    pub generated_by: String,
    pub rows: i64,
    /// Metrics whose dimension values are masked as personal data.
    pub masked_metrics: Vec<String>,
    /// Metrics the reader's role sees as org-wide totals only.
    pub totals_only_metrics: Vec<String>,
}

/// One exported row: a day (start = end) or a week or month of one metric in one slice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExportRow<'a> {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub metric: &'a str,
    /// Region, segment, channel, product; `None`: not split (or a total).
    pub dimensions: [Option<&'a str>; 4],
    pub source: &'a str,
    /// A decimal number's text.
    pub value: &'a str,
}

pub const COLUMNS: [&str; 9] = ["period_start", "period_end", "metric", "region", "segment", "channel", "product", "source", "value"];

/// Writes one export; [`Encoder::take`] hands out what is written so far.
pub struct Encoder {
    format: ReportFormat,
    buffer: Vec<u8>,
    rows: u64,
}

impl Encoder {
    /// Starts a CSV (`#` comment lines, then the header) or JSON (`{"meta":…,"rows":[`) file.
    pub fn new(format: ReportFormat, meta: &ExportMeta) -> Encoder {
        let mut buffer = Vec::with_capacity(64 * 1024);
        match format {
            ReportFormat::Json => {
                buffer.extend_from_slice(b"{\"meta\":");
                // Serialising a struct of strings and numbers into a Vec cannot fail.
                let _ = serde_json::to_writer(&mut buffer, meta);
                buffer.extend_from_slice(b",\"rows\":[");
            }
            _ => {
                let mut line = |key: &str, value: &str| {
                    buffer.extend_from_slice(format!("# {key}: {}\n", value.replace(['\n', '\r'], " ")).as_bytes());
                };
                line("org", &meta.org);
                line("view", &meta.query);
                line("grain", &meta.grain);
                line("period", &format!("{} to {}", meta.from, meta.to));
                line("metrics", &meta.metrics.join(", "));
                line("generated_at", &meta.generated_at);
                line("generated_by", &meta.generated_by);
                line("rows", &meta.rows.to_string());
                if !meta.masked_metrics.is_empty() {
                    line("masked (personal data)", &meta.masked_metrics.join(", "));
                }
                if !meta.totals_only_metrics.is_empty() {
                    line("totals only (anonymised for this role)", &meta.totals_only_metrics.join(", "));
                }
                buffer.extend_from_slice(COLUMNS.join(",").as_bytes());
                buffer.push(b'\n');
            }
        }
        Encoder { format, buffer, rows: 0 }
    }

    pub fn row(&mut self, row: &ExportRow<'_>) {
        match self.format {
            ReportFormat::Json => self.json_row(row),
            _ => self.csv_row(row),
        }
        self.rows += 1;
    }

    fn csv_row(&mut self, row: &ExportRow<'_>) {
        let b = &mut self.buffer;
        write_date(b, row.start);
        b.push(b',');
        write_date(b, row.end);
        for field in [Some(row.metric)].into_iter().chain(row.dimensions).chain([Some(row.source)]) {
            b.push(b',');
            csv_field(b, field.unwrap_or(""));
        }
        b.push(b',');
        b.extend_from_slice(row.value.as_bytes());
        b.push(b'\n');
    }

    fn json_row(&mut self, row: &ExportRow<'_>) {
        let b = &mut self.buffer;
        if self.rows > 0 {
            b.push(b',');
        }
        b.extend_from_slice(b"{\"period_start\":\"");
        write_date(b, row.start);
        b.extend_from_slice(b"\",\"period_end\":\"");
        write_date(b, row.end);
        b.extend_from_slice(b"\"");
        let names = &COLUMNS[2..8];
        for (name, field) in names.iter().zip([Some(row.metric)].into_iter().chain(row.dimensions).chain([Some(row.source)])) {
            b.extend_from_slice(format!(",\"{name}\":").as_bytes());
            let _ = serde_json::to_writer(&mut *b, &field);
        }
        b.extend_from_slice(b",\"value\":");
        match (is_json_number(row.value), row.value.parse::<f64>().ok().and_then(number_text)) {
            (true, _) => b.extend_from_slice(row.value.as_bytes()),
            // A number JSON spells differently ("007", "1.", "+1"): its value.
            (false, Some(number)) => b.extend_from_slice(number.as_bytes()),
            (false, None) => {
                let _ = serde_json::to_writer(&mut *b, row.value);
            }
        }
        b.push(b'}');
    }

    /// Bytes written so far, once there are at least `at_least` (0: always).
    pub fn take(&mut self, at_least: usize) -> Option<Vec<u8>> {
        (self.buffer.len() >= at_least.max(1)).then(|| std::mem::replace(&mut self.buffer, Vec::with_capacity(64 * 1024)))
    }

    /// The file's last bytes.
    pub fn finish(mut self) -> Vec<u8> {
        if self.format == ReportFormat::Json {
            self.buffer.extend_from_slice(b"]}\n");
        }
        self.buffer
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }
}

fn write_date(b: &mut Vec<u8>, day: NaiveDate) {
    use std::io::Write;
    let _ = write!(b, "{}", day.format("%Y-%m-%d"));
}

/// A CSV field, quoted when needed; text a spreadsheet would run as a formula gets a leading `'`.
fn csv_field(b: &mut Vec<u8>, text: &str) {
    let formula = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote = formula || text.contains([',', '"', '\n', '\r']);
    if !quote {
        b.extend_from_slice(text.as_bytes());
        return;
    }
    b.push(b'"');
    if formula {
        b.push(b'\'');
    }
    b.extend_from_slice(text.replace('"', "\"\"").as_bytes());
    b.push(b'"');
}

/// Whether `text` can be written as a JSON number as it is (what PostgreSQL prints for numerics).
fn is_json_number(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    !int.is_empty()
        && !frac.is_empty()
        && int.bytes().all(|c| c.is_ascii_digit())
        && frac.bytes().all(|c| c.is_ascii_digit())
        && (int == "0" || !int.starts_with('0'))
}

/// The stand-in for a personal-data value: stable within an org (so rows still group), not
/// reversible, and different across orgs.
pub fn mask(org_salt: &[u8], value: &str) -> String {
    let digest = Sha256::new().chain_update(org_salt).chain_update([0u8]).chain_update(value.as_bytes()).finalize();
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("masked-{hex}")
}

/// A number's text for a computed (not stored) value: finite values only, shortest round-trip form.
pub fn number_text(value: f64) -> Option<String> {
    // Rust prints floats without an exponent, which is valid JSON and CSV.
    value.is_finite().then(|| format!("{value}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).expect("date")
    }

    fn meta(rows: i64) -> ExportMeta {
        ExportMeta {
            org: "Acme, Inc".into(),
            query: "metric=revenue&region=EMEA".into(),
            grain: "day".into(),
            from: day(1),
            to: day(2),
            metrics: vec!["revenue".into()],
            generated_at: "2026-03-03T00:00:00Z".into(),
            generated_by: "a@b.c".into(),
            rows,
            masked_metrics: vec![],
            totals_only_metrics: vec![],
        }
    }

    fn row<'a>(region: Option<&'a str>, value: &'a str) -> ExportRow<'a> {
        ExportRow { start: day(1), end: day(1), metric: "revenue", dimensions: [region, None, Some("web"), None], source: "api", value }
    }

    #[test]
    fn csv_records_what_the_file_is_and_reads_back_with_a_csv_parser() {
        let mut e = Encoder::new(ReportFormat::Csv, &meta(2));
        e.row(&row(Some("EMEA"), "10.50"));
        e.row(&row(Some("=cmd|' /C calc'!A0"), "-3"));
        let text = String::from_utf8(e.finish()).expect("utf8");
        assert!(text.starts_with("# org: Acme, Inc\n# view: metric=revenue&region=EMEA\n"));
        let body: String = text.lines().filter(|l| !l.starts_with('#')).map(|l| format!("{l}\n")).collect();
        let mut reader = csv::Reader::from_reader(body.as_bytes());
        assert_eq!(reader.headers().expect("header").iter().collect::<Vec<_>>(), COLUMNS.to_vec());
        let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("records");
        assert_eq!(&rows[0][3], "EMEA");
        assert_eq!(&rows[0][8], "10.50");
        assert_eq!(&rows[1][3], "'=cmd|' /C calc'!A0", "a formula is defused");
        assert_eq!(&rows[1][8], "-3", "numbers stay numbers");
        assert_eq!(&rows[0][4], "", "not split");
    }

    #[test]
    fn json_is_one_document_with_meta_and_numeric_values() {
        let mut e = Encoder::new(ReportFormat::Json, &meta(2));
        e.row(&row(Some("EM\"EA"), "10.50"));
        e.row(&row(None, "Infinity"));
        let doc: serde_json::Value = serde_json::from_slice(&e.finish()).expect("json");
        assert_eq!(doc["meta"]["org"], "Acme, Inc");
        assert_eq!(doc["meta"]["rows"], 2);
        assert_eq!(doc["rows"][0]["value"], 10.5);
        assert_eq!(doc["rows"][0]["region"], "EM\"EA");
        assert_eq!(doc["rows"][1]["region"], serde_json::Value::Null);
        assert_eq!(doc["rows"][1]["value"], "Infinity", "what is not a JSON number stays text");
        let empty: serde_json::Value = serde_json::from_slice(&Encoder::new(ReportFormat::Json, &meta(0)).finish()).expect("json");
        assert_eq!(empty["rows"], serde_json::json!([]));
    }

    #[test]
    fn chunks_are_handed_out_once_big_enough() {
        let mut e = Encoder::new(ReportFormat::Csv, &meta(1));
        assert!(e.take(1 << 20).is_none());
        let head = e.take(0).expect("header bytes");
        e.row(&row(None, "1"));
        let rest = e.finish();
        assert!(String::from_utf8(rest).expect("utf8").starts_with("2026-03-01,2026-03-01,revenue,,,web,,api,1"));
        assert!(!head.is_empty());
    }

    #[test]
    fn masks_are_stable_per_org_and_differ_between_orgs() {
        assert_eq!(mask(b"org-a", "Jane Doe"), mask(b"org-a", "Jane Doe"));
        assert_ne!(mask(b"org-a", "Jane Doe"), mask(b"org-b", "Jane Doe"));
        assert_ne!(mask(b"org-a", "Jane Doe"), mask(b"org-a", "John Doe"));
        assert!(!mask(b"org-a", "Jane Doe").contains("Jane"));
        assert_eq!(number_text(2.5).as_deref(), Some("2.5"));
        assert_eq!(number_text(f64::NAN), None);
        assert_eq!(number_text(1e-9).as_deref(), Some("0.000000001"));
    }

    proptest! {
        #[test]
        fn any_text_round_trips_through_csv_and_json(region in ".{0,40}", value in "-?[0-9]{1,8}(\\.[0-9]{1,4})?") {
            let mut e = Encoder::new(ReportFormat::Csv, &meta(1));
            e.row(&row(Some(&region), &value));
            let text = String::from_utf8(e.finish()).expect("utf8");
            let body: String = text.split_inclusive('\n').skip_while(|l| l.starts_with('#')).collect();
            let mut reader = csv::Reader::from_reader(body.as_bytes());
            let record = reader.records().next().expect("a row").expect("parses");
            let defused = region.starts_with(['=', '+', '-', '@', '\t', '\r']);
            prop_assert_eq!(record[3].to_string(), if defused { format!("'{region}") } else { region.clone() });
            let mut j = Encoder::new(ReportFormat::Json, &meta(1));
            j.row(&row(Some(&region), &value));
            let doc: serde_json::Value = serde_json::from_slice(&j.finish()).expect("json parses");
            prop_assert_eq!(doc["rows"][0]["region"].as_str(), Some(region.as_str()));
            let parsed: f64 = value.parse().expect("number");
            prop_assert_eq!(doc["rows"][0]["value"].as_f64(), Some(parsed));
        }
    }
}

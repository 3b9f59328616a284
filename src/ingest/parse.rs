//! Reads a load's body (a JSON array of objects, or CSV with a header) into validated rows and
//! per-row errors. Survives any input: a body that is not the right shape at all is one clear
//! error; every other problem is an error on its row and field.

use serde_json::Value;

use crate::domain::date::parse_day;
use crate::domain::ingest::{IngestRow, RowError, DEFAULT_SOURCE};
use crate::domain::measure::{Aggregation, Direction};

/// Every field a row may have; `date`, `metric` and `value` are required.
pub const FIELDS: [&str; 12] = ["date", "metric", "value", "unit", "region", "segment", "channel", "product", "source", "label", "direction", "aggregation"];
const REQUIRED: [&str; 3] = ["date", "metric", "value"];
/// Longest dimension value, source or unit; longer is an error, never silently cut.
const MAX_TEXT: usize = 100;

/// Why a body could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    Malformed(String),
    TooManyRows { limit: usize },
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::Malformed(m) => write!(f, "{m}"),
            BodyError::TooManyRows { limit } => write!(f, "a load holds at most {limit} rows; split the file"),
        }
    }
}

/// The good rows (with their row number and CSV line) and the errors of the bad ones.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed {
    pub rows: Vec<(usize, Option<u64>, IngestRow)>,
    pub errors: Vec<RowError>,
    /// Data rows read, good and bad.
    pub total: usize,
}

/// One cell as the body gave it.
#[derive(Clone, Copy)]
enum Cell<'a> {
    Text(&'a str),
    Number(f64),
    /// A JSON value of another type, named.
    Other(&'static str),
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A JSON array of objects, each with the fields in [`FIELDS`].
pub fn parse_json(body: &[u8], max_rows: usize) -> Result<Parsed, BodyError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| BodyError::Malformed(format!("the body is not JSON: {e}")))?;
    let Value::Array(items) = value else {
        return Err(BodyError::Malformed(format!("the body must be a JSON array of rows, not {}", json_type(&value))));
    };
    if items.len() > max_rows {
        return Err(BodyError::TooManyRows { limit: max_rows });
    }
    let mut parsed = Parsed { total: items.len(), ..Parsed::default() };
    for (i, item) in items.iter().enumerate() {
        let row = i + 1;
        let Value::Object(fields) = item else {
            parsed.errors.push(RowError { row, line: None, field: "row".into(), error: format!("a row must be an object, not {}", json_type(item)) });
            continue;
        };
        if let Some(unknown) = fields.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            parsed.errors.push(RowError { row, line: None, field: unknown.clone(), error: format!("unknown field; the fields are {}", FIELDS.join(", ")) });
            continue;
        }
        let cell = |name: &str| match fields.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(Cell::Text(s.as_str())),
            Some(Value::Number(n)) => Some(n.as_f64().map_or(Cell::Other("a number out of range"), Cell::Number)),
            Some(other) => Some(Cell::Other(json_type(other))),
        };
        push(&mut parsed, row, None, validate(&cell));
    }
    Ok(parsed)
}

/// CSV with a header row naming the columns (any order, any case); unknown columns are refused.
pub fn parse_csv(body: &[u8], max_rows: usize) -> Result<Parsed, BodyError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(body);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| BodyError::Malformed(format!("the header row cannot be read: {e}")))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let unknown: Vec<&String> = header.iter().filter(|h| !FIELDS.contains(&h.as_str())).collect();
    if !unknown.is_empty() {
        let names: Vec<&str> = unknown.iter().map(|h| h.as_str()).collect();
        return Err(BodyError::Malformed(format!("unknown columns {}; the columns are {}", names.join(", "), FIELDS.join(", "))));
    }
    let missing: Vec<&str> = REQUIRED.iter().copied().filter(|r| !header.iter().any(|h| h == r)).collect();
    if !missing.is_empty() {
        return Err(BodyError::Malformed(format!("the header has no {} column", missing.join(", "))));
    }
    let mut parsed = Parsed::default();
    for record in reader.records() {
        parsed.total += 1;
        if parsed.total > max_rows {
            return Err(BodyError::TooManyRows { limit: max_rows });
        }
        let row = parsed.total;
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map(|p| p.line());
                parsed.errors.push(RowError { row, line, field: "row".into(), error: format!("cannot be read: {e}") });
                continue;
            }
        };
        let line = record.position().map(|p| p.line());
        if record.len() != header.len() {
            parsed.errors.push(RowError { row, line, field: "row".into(), error: format!("has {} cells; the header has {}", record.len(), header.len()) });
            continue;
        }
        let cell = |name: &str| header.iter().position(|h| h == name).and_then(|i| record.get(i)).filter(|t| !t.is_empty()).map(Cell::Text);
        push(&mut parsed, row, line, validate(&cell));
    }
    Ok(parsed)
}

fn push(parsed: &mut Parsed, row: usize, line: Option<u64>, result: Result<IngestRow, (&'static str, String)>) {
    match result {
        Ok(r) => parsed.rows.push((row, line, r)),
        Err((field, error)) => parsed.errors.push(RowError { row, line, field: field.into(), error }),
    }
}

type FieldError = (&'static str, String);

fn text<'a>(cell: &dyn Fn(&str) -> Option<Cell<'a>>, name: &'static str) -> Result<Option<String>, FieldError> {
    match cell(name) {
        None => Ok(None),
        Some(Cell::Text(t)) => {
            let t = t.trim();
            if t.chars().count() > MAX_TEXT {
                Err((name, format!("is longer than {MAX_TEXT} characters")))
            } else if t.chars().any(char::is_control) {
                Err((name, "contains control characters".into()))
            } else {
                Ok(Some(t.to_string()).filter(|t| !t.is_empty()))
            }
        }
        Some(Cell::Number(n)) => Err((name, format!("must be text, not the number {n}"))),
        Some(Cell::Other(kind)) => Err((name, format!("must be text, not {kind}"))),
    }
}

fn required<'a>(cell: &dyn Fn(&str) -> Option<Cell<'a>>, name: &'static str) -> Result<String, FieldError> {
    text(cell, name)?.ok_or((name, "is required".into()))
}

fn value<'a>(cell: &dyn Fn(&str) -> Option<Cell<'a>>) -> Result<f64, FieldError> {
    let v = match cell("value") {
        None => return Err(("value", "is required".into())),
        Some(Cell::Number(n)) => n,
        Some(Cell::Text(t)) => t.trim().parse::<f64>().map_err(|_| ("value", format!("not a number: {}", clip(t))))?,
        Some(Cell::Other(kind)) => return Err(("value", format!("must be a number, not {kind}"))),
    };
    // NUMERIC holds about 1e131072, but sums of values near f64's limit overflow in the rollups.
    if !v.is_finite() || v.abs() > 1e15 {
        return Err(("value", format!("must be a finite number of at most 1e15 in size, not {v}")));
    }
    Ok(v)
}

/// A text for an error message: at most 40 characters of it.
fn clip(t: &str) -> String {
    let cut: String = t.chars().take(40).collect();
    if cut.len() < t.len() { format!("{cut}…") } else { cut }
}

fn validate<'a>(cell: &dyn Fn(&str) -> Option<Cell<'a>>) -> Result<IngestRow, FieldError> {
    let date_text = required(cell, "date")?;
    let date = parse_day(&date_text).map_err(|e| ("date", format!("not a date: {} ({e})", clip(&date_text))))?;
    let metric = required(cell, "metric")?;
    if !is_metric_key(&metric) {
        return Err(("metric", format!("{:?} is not a metric key (a-z, 0-9 and _, starting with a letter, at most 63)", clip(&metric))));
    }
    let value = value(cell)?;
    let direction = match text(cell, "direction")? {
        None => None,
        Some(t) => Some(Direction::parse(&t).ok_or(("direction", format!("{:?} is not higher_is_better or lower_is_better", clip(&t))))?),
    };
    let aggregation = match text(cell, "aggregation")? {
        None => None,
        Some(t) => Some(Aggregation::parse(&t).ok_or(("aggregation", format!("{:?} is not sum, avg or last", clip(&t))))?),
    };
    Ok(IngestRow {
        date,
        metric,
        value,
        unit: text(cell, "unit")?,
        region: text(cell, "region")?,
        segment: text(cell, "segment")?,
        channel: text(cell, "channel")?,
        product: text(cell, "product")?,
        source: text(cell, "source")?.unwrap_or_else(|| DEFAULT_SOURCE.to_string()),
        label: text(cell, "label")?,
        direction,
        aggregation,
    })
}

/// The shape the catalogue's keys have (as the models' schemas check them).
pub fn is_metric_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    !bytes.is_empty() && bytes.len() <= 63 && bytes[0].is_ascii_lowercase() && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_json_rows_are_read_with_defaults() {
        let body = br#"[{"date": "2026-11-20", "metric": "revenue", "value": 1250.5, "region": "EMEA"},
                        {"date": "2026-11-20", "metric": "revenue", "value": "99", "source": "stripe", "region": null}]"#;
        let parsed = parse_json(body, 10).expect("parsed");
        assert_eq!((parsed.total, parsed.errors.len(), parsed.rows.len()), (2, 0, 2));
        let (row, line, first) = &parsed.rows[0];
        assert_eq!((*row, *line, first.value, first.region.as_deref(), first.source.as_str()), (1, None, 1250.5, Some("EMEA"), DEFAULT_SOURCE));
        assert_eq!((parsed.rows[1].2.value, parsed.rows[1].2.source.as_str(), parsed.rows[1].2.region.clone()), (99.0, "stripe", None));
    }

    #[test]
    fn each_bad_field_is_an_error_on_its_row_and_field() {
        let body = br#"[{"date": "2026-13-01", "metric": "revenue", "value": 1},
                        {"date": "2026-11-01", "metric": "Revenue!", "value": 1},
                        {"date": "2026-11-01", "metric": "revenue", "value": "NaN"},
                        {"date": "2026-11-01", "metric": "revenue", "value": true},
                        {"date": "2026-11-01", "metric": "revenue"},
                        {"date": "2026-11-01", "metric": "revenue", "value": 1, "colour": "red"},
                        {"date": "2026-11-01", "metric": "revenue", "value": 1, "direction": "up"},
                        [1, 2],
                        {"date": "2026-11-01", "metric": "revenue", "value": 1, "region": 5}]"#;
        let parsed = parse_json(body, 100).expect("parsed");
        let got: Vec<(usize, &str)> = parsed.errors.iter().map(|e| (e.row, e.field.as_str())).collect();
        assert_eq!(got, vec![(1, "date"), (2, "metric"), (3, "value"), (4, "value"), (5, "value"), (6, "colour"), (7, "direction"), (8, "row"), (9, "region")]);
        assert_eq!(parsed.errors[0].error, "not a date: 2026-13-01 (is not a date; use YYYY-MM-DD)");
        assert!(parsed.rows.is_empty());
    }

    #[test]
    fn a_body_of_the_wrong_shape_or_size_is_one_error() {
        assert!(matches!(parse_json(b"{\"date\": 1}", 10), Err(BodyError::Malformed(m)) if m.contains("JSON array")));
        assert!(matches!(parse_json(b"not json", 10), Err(BodyError::Malformed(_))));
        assert_eq!(parse_json(b"[{}, {}, {}]", 2), Err(BodyError::TooManyRows { limit: 2 }));
        let csv = b"date,metric,value\n2026-11-01,revenue,1\n2026-11-02,revenue,2\n2026-11-03,revenue,3\n";
        assert_eq!(parse_csv(csv, 2), Err(BodyError::TooManyRows { limit: 2 }));
        assert!(matches!(parse_csv(b"date,metric,amount\n", 2), Err(BodyError::Malformed(m)) if m.contains("amount")));
        assert!(matches!(parse_csv(b"date,metric\n", 2), Err(BodyError::Malformed(m)) if m.contains("value")));
    }

    #[test]
    fn csv_rows_carry_their_line_and_empty_cells_are_absent() {
        let csv = "\u{feff}Date,Metric,Value,Region\n2026-11-01,revenue,10,EMEA\n2026-11-02,revenue,,\n2026-11-03,revenue,5\n2026-11-04,revenue,\"1e3\",\n";
        let parsed = parse_csv(csv.as_bytes(), 10).expect("parsed");
        assert_eq!(parsed.total, 4);
        assert_eq!(parsed.rows.iter().map(|(r, l, row)| (*r, *l, row.value)).collect::<Vec<_>>(), vec![(1, Some(2), 10.0), (4, Some(5), 1000.0)]);
        let errors: Vec<(usize, Option<u64>, &str)> = parsed.errors.iter().map(|e| (e.row, e.line, e.field.as_str())).collect();
        assert_eq!(errors, vec![(2, Some(3), "value"), (3, Some(4), "row")]);
    }

    #[test]
    fn metric_keys_have_the_catalogue_shape() {
        assert!(is_metric_key("revenue") && is_metric_key("a1_b"));
        assert!(!is_metric_key("") && !is_metric_key("1a") && !is_metric_key("Revenue") && !is_metric_key(&"a".repeat(64)));
    }
}

//! Number formatting for people: units, compact magnitudes and signed percentages.
//! Shared by server rendering and the browser so both print the same text.

/// Formats `value` in `unit` ("USD", "%", "count", "users", "score", anything else verbatim).
pub fn format_value(value: f64, unit: &str) -> String {
    if !value.is_finite() {
        return "n/a".to_string();
    }
    match unit {
        "USD" => {
            let sign = if value < 0.0 { "-" } else { "" };
            let magnitude = value.abs();
            if magnitude >= 100_000.0 {
                format!("{sign}${}", compact(magnitude))
            } else {
                format!("{sign}${}", group_thousands(magnitude, 2))
            }
        }
        "%" => format!("{value:.2}%"),
        "score" => format!("{value:.1}"),
        _ => {
            let text = if value.abs() >= 100_000.0 {
                compact(value.abs())
            } else {
                group_thousands(value.abs(), if value.fract() == 0.0 { 0 } else { 1 })
            };
            let sign = if value < 0.0 { "-" } else { "" };
            if unit == "count" || unit.is_empty() {
                format!("{sign}{text}")
            } else {
                format!("{sign}{text} {unit}")
            }
        }
    }
}

/// "+4.5%", "-12.0%", or "n/a" when the relative change is undefined.
pub fn format_relative(relative: Option<f64>) -> String {
    match relative {
        Some(r) if r.is_finite() => {
            let pct = r * 100.0;
            if pct >= 0.0 {
                format!("+{pct:.1}%")
            } else {
                format!("{pct:.1}%")
            }
        }
        _ => "n/a".to_string(),
    }
}

fn compact(magnitude: f64) -> String {
    if magnitude >= 1e9 {
        format!("{:.2}B", magnitude / 1e9)
    } else if magnitude >= 1e6 {
        format!("{:.2}M", magnitude / 1e6)
    } else {
        format!("{:.1}k", magnitude / 1e3)
    }
}

fn group_thousands(magnitude: f64, decimals: usize) -> String {
    let text = format!("{magnitude:.decimals$}");
    let (int_part, frac_part) = match text.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (text, None),
    };
    let mut grouped = String::new();
    for (i, ch) in int_part.chars().enumerate() {
        if i > 0 && (int_part.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    match frac_part {
        Some(f) => format!("{grouped}.{f}"),
        None => grouped,
    }
}

/// An RFC 3339 UTC time as "2026-11-24 01:13:18" (the column or text says UTC).
pub fn utc_time(rfc3339: &str) -> String {
    rfc3339.replace('T', " ").trim_end_matches('Z').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_compact_when_large() {
        assert_eq!(format_value(2_521_340.0, "USD"), "$2.52M");
        assert_eq!(format_value(73.456, "USD"), "$73.46");
        assert_eq!(format_value(12_345.0, "USD"), "$12,345.00");
        assert_eq!(format_value(-250.0, "USD"), "-$250.00");
    }

    #[test]
    fn counts_rates_and_scores() {
        assert_eq!(format_value(34_512.0, "count"), "34,512");
        assert_eq!(format_value(1_234_567.0, "users"), "1.23M users");
        assert_eq!(format_value(3.2049, "%"), "3.20%");
        assert_eq!(format_value(41.26, "score"), "41.3");
        assert_eq!(format_value(f64::NAN, "USD"), "n/a");
    }

    #[test]
    fn relative_changes_are_signed() {
        assert_eq!(format_relative(Some(0.045)), "+4.5%");
        assert_eq!(format_relative(Some(-0.12)), "-12.0%");
        assert_eq!(format_relative(None), "n/a");
    }
}

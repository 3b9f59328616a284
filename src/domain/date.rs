//! Calendar days as users type them: `YYYY-MM-DD` with a year from 1900 to 2200. Every parser of
//! a date in a URL, a form or a file goes through here, so an extreme year never reaches the
//! date arithmetic (chrono accepts signed years of any width, e.g. `+262142-12-15`).

use chrono::{Datelike, NaiveDate};

pub const MIN_YEAR: i32 = 1900;
pub const MAX_YEAR: i32 = 2200;

/// Why a text is not an accepted day; the caller names the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayError {
    NotADate,
    OutOfRange(NaiveDate),
}

impl std::fmt::Display for DayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DayError::NotADate => write!(f, "is not a date; use YYYY-MM-DD"),
            DayError::OutOfRange(d) => write!(f, "is outside the years {MIN_YEAR} to {MAX_YEAR} ({d})"),
        }
    }
}

/// Exactly four year digits, two month digits and two day digits, a real day, within the years.
pub fn parse_day(text: &str) -> Result<NaiveDate, DayError> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10 && bytes.iter().enumerate().all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() });
    if !shaped {
        return Err(DayError::NotADate);
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| DayError::NotADate)?;
    check_day(day)
}

/// A day within the accepted years.
pub fn check_day(day: NaiveDate) -> Result<NaiveDate, DayError> {
    if (MIN_YEAR..=MAX_YEAR).contains(&day.year()) {
        Ok(day)
    } else {
        Err(DayError::OutOfRange(day))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn only_plain_days_in_range_parse() {
        assert_eq!(parse_day("2026-11-26"), Ok(NaiveDate::from_ymd_opt(2026, 11, 26).expect("date")));
        assert_eq!(parse_day("1900-01-01").map(|d| d.year()), Ok(1900));
        assert_eq!(parse_day("2200-12-31").map(|d| d.year()), Ok(2200));
        for bad in ["-262143-01-01", "+262142-12-15", "2026-13-01", "2026-02-30", "26-11-26", "2026-1-05", " 2026-11-26", "２０２６-11-26", ""] {
            assert_eq!(parse_day(bad), Err(DayError::NotADate), "{bad:?}");
        }
        assert!(matches!(parse_day("1899-12-31"), Err(DayError::OutOfRange(_))));
        assert!(parse_day("2201-01-01").unwrap_err().to_string().contains("1900 to 2200"));
    }

    proptest! {
        #[test]
        fn any_text_parses_or_errs_without_panicking(text in "\\PC{0,16}") {
            if let Ok(day) = parse_day(&text) {
                prop_assert!((MIN_YEAR..=MAX_YEAR).contains(&day.year()));
            }
        }
    }
}

//! The guard on a written narrative (a language model's, or any other writer's): a sentence stays
//! only if it cites facts that exist and every number in it is one those facts show, with the
//! rounding shown (or a count no larger than the facts it cites, or part of the period's labels);
//! a sentence citing nothing may hold no number but the labels'.
//! When the headline or too many sentences fail, the caller falls back to the deterministic text.
//!
//! Numbers are compared as written: "15.0%" is not "15%", "$2.52M" is "2.52M"; signs, currency
//! symbols and thousands separators are ignored, leading zeros of whole numbers too ("04" is "4").
//! Numbers spelled out in words are not seen; the prompt asks for digits.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::story::{CitedFact, Narrative, Paragraph, PeriodLabels, Sentence};

/// Why a sentence was dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum DropReason {
    /// It holds numbers but cites no fact.
    NoCitation,
    /// It cites an id that is not among the facts given.
    UnknownFact { id: String },
    /// It holds a number none of its facts shows.
    Number { number: String },
    /// Empty, or longer than [`MAX_SENTENCE_CHARS`].
    Shape,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dropped {
    pub text: String,
    pub reason: DropReason,
}

/// The checked narrative (when enough of it survived) and every sentence that did not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardOutcome {
    pub narrative: Option<Narrative>,
    pub dropped: Vec<Dropped>,
}

pub const MAX_SENTENCE_CHARS: usize = 600;
/// Sentences (besides the headline) a narrative must keep to be used at all.
pub const MIN_SENTENCES: usize = 3;

/// The numbers in `text`, normalised as described in the module comment.
pub fn numbers(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_alphabetic() {
            // An id such as "f12" or "Q3" (one letter, then digits) holds no number; any other
            // word's digits ("USD420000") are read as numbers.
            let word_end = (i..chars.len()).find(|&j| !chars[j].is_alphanumeric()).unwrap_or(chars.len());
            let letters = (i..word_end).take_while(|&j| chars[j].is_alphabetic()).count();
            let is_id = letters == 1 && word_end > i + 1 && (i + 1..word_end).all(|j| chars[j].is_ascii_digit());
            i = if is_id { word_end } else { i + letters };
            continue;
        }
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let mut token = String::new();
        let mut seen_point = false;
        while i < chars.len() {
            let c = chars[i];
            let next_is_digit = chars.get(i + 1).is_some_and(char::is_ascii_digit);
            if c.is_ascii_digit() {
                token.push(c);
            } else if c == ',' && next_is_digit && !seen_point {
                // A thousands separator: dropped.
            } else if c == '.' && next_is_digit && !seen_point {
                seen_point = true;
                token.push(c);
            } else {
                break;
            }
            i += 1;
        }
        if let Some(&suffix) = chars.get(i).filter(|c| matches!(c, '%' | 'k' | 'M' | 'B')) {
            if !chars.get(i + 1).is_some_and(|c| c.is_alphanumeric()) {
                token.push(suffix);
                i += 1;
            }
        }
        out.push(normalise(token));
    }
    out
}

fn normalise(token: String) -> String {
    let (digits, rest) = token.split_at(token.find(|c: char| !c.is_ascii_digit()).unwrap_or(token.len()));
    let trimmed = digits.trim_start_matches('0');
    let whole = if trimmed.is_empty() && !digits.is_empty() { "0" } else { trimmed };
    format!("{whole}{rest}")
}

/// Checks every sentence of `candidate` against `facts`; see the module comment.
pub fn check(candidate: &Narrative, facts: &[CitedFact], labels: &PeriodLabels) -> GuardOutcome {
    let by_id: HashMap<&str, BTreeSet<String>> = facts.iter().map(|f| (f.id.as_str(), numbers(&f.text()).into_iter().collect())).collect();
    let context: BTreeSet<String> = [&labels.current, &labels.previous, &labels.last_year, &labels.next].into_iter().flat_map(|l| numbers(l)).collect();
    let mut dropped = Vec::new();
    let mut verdict = |s: &Sentence| match problem(s, &by_id, &context) {
        None => true,
        Some(reason) => {
            dropped.push(Dropped { text: s.text.clone(), reason });
            false
        }
    };
    let headline_ok = verdict(&candidate.headline);
    let paragraphs: Vec<Paragraph> = candidate
        .paragraphs
        .iter()
        .map(|p| Paragraph { topic: p.topic, sentences: p.sentences.iter().filter(|s| verdict(s)).cloned().collect() })
        .filter(|p| !p.sentences.is_empty())
        .collect();
    let kept: usize = paragraphs.iter().map(|p| p.sentences.len()).sum();
    let narrative = (headline_ok && kept >= MIN_SENTENCES).then(|| Narrative { headline: candidate.headline.clone(), paragraphs });
    GuardOutcome { narrative, dropped }
}

fn problem(s: &Sentence, by_id: &HashMap<&str, BTreeSet<String>>, context: &BTreeSet<String>) -> Option<DropReason> {
    if s.text.trim().is_empty() || s.text.chars().count() > MAX_SENTENCE_CHARS {
        return Some(DropReason::Shape);
    }
    if s.cites.is_empty() {
        // A sentence that cites nothing may only repeat the period's labels ("No unusual days
        // were flagged in October 2026.").
        return numbers(&s.text).iter().any(|n| !context.contains(n)).then_some(DropReason::NoCitation);
    }
    let mut allowed: BTreeSet<&str> = context.iter().map(String::as_str).collect();
    for id in &s.cites {
        let Some(shown) = by_id.get(id.as_str()) else {
            return Some(DropReason::UnknownFact { id: id.clone() });
        };
        allowed.extend(shown.iter().map(String::as_str));
    }
    let counts: Vec<String> = (0..=s.cites.len()).map(|n| n.to_string()).collect();
    allowed.extend(counts.iter().map(String::as_str));
    numbers(&s.text).into_iter().find(|n| !allowed.contains(n.as_str())).map(|number| DropReason::Number { number })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::story::{compose, Topic};

    fn labels() -> PeriodLabels {
        PeriodLabels { current: "October 2026".into(), previous: "September 2026".into(), last_year: "October 2025".into(), next: "November 2026".into() }
    }

    #[test]
    fn numbers_are_read_as_written() {
        assert_eq!(numbers("Revenue was $2.52M, down 15.0% on 2026-09 (1,250 orders; 04 days)."), vec!["2.52M", "15.0%", "2026", "9", "1250", "4"]);
        assert_eq!(numbers("f12 and Q3 are ids, 120 km is not 120k"), vec!["120", "120k"]);
        assert_eq!(numbers("Marketing spend was USD420000."), vec!["420000"]);
        assert_eq!(numbers("-$140.00 of the -$150.00 change (93%)."), vec!["140.00", "150.00", "93%"]);
        assert_eq!(numbers("0 improved. 3.5.7"), vec!["0", "3.5", "7"]);
    }

    fn sentence(text: &str, cites: &[&str]) -> Sentence {
        Sentence { text: text.into(), cites: cites.iter().map(|c| c.to_string()).collect() }
    }

    #[test]
    fn the_deterministic_narrative_passes_whole() {
        let facts = crate::analytics::story::tests::sample();
        let narrative = compose(&labels(), &facts);
        let outcome = check(&narrative, &facts.all(), &labels());
        assert_eq!(outcome.dropped, Vec::new());
        assert_eq!(outcome.narrative, Some(narrative));
    }

    #[test]
    fn invented_numbers_unknown_facts_and_uncited_sentences_are_dropped() {
        let facts = crate::analytics::story::tests::sample().all();
        let good = |t: &str, c: &[&str]| sentence(t, c);
        let candidate = Narrative {
            headline: good("October 2026: Orders rose 20.0% on September 2026.", &["f6"]),
            paragraphs: vec![
                Paragraph {
                    topic: Topic::Performance,
                    sentences: vec![
                        good("Revenue fell 15.0% to $850.00.", &["f1"]),
                        good("Revenue fell 18% to $850.00.", &["f1"]),
                        good("Orders reached 120, up 20.0%.", &["f2"]),
                        good("Margins improved by 3.2%.", &["f99"]),
                        good("The month was mixed, up 12% in all.", &[]),
                        good("Nothing unusual happened in October 2026.", &[]),
                    ],
                },
                Paragraph { topic: Topic::Movements, sentences: vec![good("EMEA (region) accounts for -$140.00 of the change.", &["f8"])] },
            ],
        };
        let outcome = check(&candidate, &facts, &labels());
        let reasons: Vec<&DropReason> = outcome.dropped.iter().map(|d| &d.reason).collect();
        assert_eq!(
            reasons,
            vec![&DropReason::Number { number: "18%".into() }, &DropReason::UnknownFact { id: "f99".into() }, &DropReason::NoCitation]
        );
        let kept = outcome.narrative.expect("three sentences and the headline survive");
        assert_eq!(kept.sentences().count(), 5);

        let bad_headline = Narrative { headline: good("October 2026: Orders up 25.0%.", &["f6"]), ..kept.clone() };
        assert_eq!(check(&bad_headline, &facts, &labels()).narrative, None, "a failed headline discards the narrative");
        let first_two = Paragraph { topic: Topic::Performance, sentences: kept.paragraphs[0].sentences[..2].to_vec() };
        let too_short = Narrative { paragraphs: vec![first_two], ..kept };
        assert_eq!(check(&too_short, &facts, &labels()).narrative, None);
    }

    proptest::proptest! {
        /// Whatever the values, every number of the deterministic narrative comes from its facts.
        #[test]
        fn every_deterministic_sentence_passes_the_guard(values in proptest::collection::vec((-1e7f64..1e7, -1e7f64..1e7), 1..8), units in proptest::collection::vec(0usize..4, 8)) {
            use crate::analytics::narrative::MetricRef;
            use crate::analytics::story::{number_facts, tests::change, StoryFacts};
            let unit = |i: usize| ["USD", "count", "%", "score"][units[i % units.len()]];
            let mut facts = StoryFacts::default();
            for (i, (current, previous)) in values.iter().enumerate() {
                let m = MetricRef { key: format!("m{i}"), label: format!("Metric {i}"), unit: unit(i).into() };
                facts.vs_previous.push(change(&m, "September 2026", *current, *previous));
                facts.vs_last_year.push(change(&m, "October 2025", *current, previous * 0.9));
                facts.movements.push(change(&m, "September 2026", *current, *previous));
            }
            number_facts(&mut facts);
            let narrative = compose(&labels(), &facts);
            let outcome = check(&narrative, &facts.all(), &labels());
            proptest::prop_assert_eq!(outcome.dropped, Vec::new());
        }

        /// The number reader survives any text.
        #[test]
        fn numbers_survive_any_text(text in "\\PC{0,200}") {
            let _ = numbers(&text);
        }
    }
}

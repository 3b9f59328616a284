//! The dedupe and re-raise rules: what a model run does with a finding it has seen before.
//! Pure, so every branch is unit-tested; the service applies the decision in one transaction.

pub use crate::domain::recommendations::Known;
use super::{RecommendationStatus, Severity};

/// A finding raised again grows "materially worse" when its severity rises, or when its
/// magnitude (|z|, relative miss, …) grows by at least this factor since the decision.
pub const MATERIAL_WORSENING: f64 = 1.5;

/// A finding of this run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fresh {
    pub severity: Severity,
    pub magnitude: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Never seen: create it.
    Create,
    /// Still open: refresh its evidence in place; nobody is notified twice.
    RefreshOpen,
    /// Dismissed, and now materially worse: reopen it with the new evidence.
    Reopen,
    /// Accepted (someone acts on it), or dismissed and not materially worse: leave it alone.
    Keep,
}

pub fn materially_worse(before: Known, now: Fresh) -> bool {
    now.severity > before.severity || now.magnitude.abs() >= before.magnitude.abs() * MATERIAL_WORSENING
}

pub fn decide(known: Option<Known>, fresh: Fresh) -> Decision {
    match known {
        None => Decision::Create,
        Some(k) => match k.status {
            RecommendationStatus::Open => Decision::RefreshOpen,
            RecommendationStatus::Accepted => Decision::Keep,
            RecommendationStatus::Dismissed if materially_worse(k, fresh) => Decision::Reopen,
            RecommendationStatus::Dismissed => Decision::Keep,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(status: RecommendationStatus, severity: Severity, magnitude: f64) -> Option<Known> {
        Some(Known { status, severity, magnitude })
    }

    const WARN_4: Fresh = Fresh { severity: Severity::Warning, magnitude: 4.0 };

    #[test]
    fn a_new_finding_is_created_and_an_open_one_only_refreshed() {
        assert_eq!(decide(None, WARN_4), Decision::Create);
        assert_eq!(decide(known(RecommendationStatus::Open, Severity::Warning, 4.0), WARN_4), Decision::RefreshOpen);
        assert_eq!(decide(known(RecommendationStatus::Open, Severity::Info, 1.0), WARN_4), Decision::RefreshOpen, "never a second row");
    }

    #[test]
    fn accepted_findings_are_never_raised_again() {
        let worse = Fresh { severity: Severity::Critical, magnitude: 40.0 };
        assert_eq!(decide(known(RecommendationStatus::Accepted, Severity::Warning, 4.0), worse), Decision::Keep);
    }

    #[test]
    fn a_dismissed_finding_stays_dismissed_unless_materially_worse() {
        let dismissed = known(RecommendationStatus::Dismissed, Severity::Warning, 4.0);
        assert_eq!(decide(dismissed, WARN_4), Decision::Keep, "the same again");
        assert_eq!(decide(dismissed, Fresh { severity: Severity::Warning, magnitude: 5.9 }), Decision::Keep, "47 % bigger is not enough");
        assert_eq!(decide(dismissed, Fresh { severity: Severity::Warning, magnitude: 6.0 }), Decision::Reopen, "1.5 times the size");
        assert_eq!(decide(dismissed, Fresh { severity: Severity::Warning, magnitude: -6.0 }), Decision::Reopen, "size, not sign");
        assert_eq!(decide(dismissed, Fresh { severity: Severity::Critical, magnitude: 4.1 }), Decision::Reopen, "a higher severity");
        assert_eq!(decide(dismissed, Fresh { severity: Severity::Info, magnitude: 3.0 }), Decision::Keep, "better is not worse");
    }
}

//! Who may do what: roles, the capability matrix, metric visibility levels, and sign-in.
//! The matrix and the visibility policy are pure (shared with the browser for navigation).

pub mod api;
pub mod page;
#[cfg(feature = "ssr")]
pub mod guard;
#[cfg(feature = "ssr")]
pub mod server;

use serde::{Deserialize, Serialize};

use crate::error::AppError;

pub use crate::domain::access::{AccessPolicy, Capability, MetricAccess, Role, Visibility};

/// The signed-in user as pages see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInUser {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub org_name: String,
}

/// A post-login destination that stays on this site: a local path of URL path and query characters
/// only, never `//host` or a URL. Browsers drop tabs and newlines from a URL (`/\t/evil.example` is
/// `//evil.example` to them) and a control character cannot go in a Location header, so anything
/// outside the path alphabet sends the user home instead.
pub fn safe_next(next: &str) -> &str {
    let path_chars = next.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%#".contains(&b));
    let local = path_chars && next.starts_with('/') && !next.starts_with("//");
    if local && !next.starts_with("/login") { next } else { "/" }
}

/// Why a sign-in failed, as the login URL carries it back to a browser that posted the form
/// without JavaScript (`/login?error=credentials`): a fixed code, so the URL cannot put words of
/// its own on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginProblem {
    Credentials,
    Throttled,
    Busy,
    Incomplete,
}

impl LoginProblem {
    pub fn of(error: &AppError) -> LoginProblem {
        match error {
            AppError::InvalidCredentials => LoginProblem::Credentials,
            AppError::TooManyRequests { .. } => LoginProblem::Throttled,
            AppError::BadRequest(_) => LoginProblem::Incomplete,
            _ => LoginProblem::Busy,
        }
    }

    pub fn message(self) -> String {
        match self {
            LoginProblem::Credentials => AppError::InvalidCredentials.to_string(),
            LoginProblem::Throttled => "too many failed sign-in attempts; try again in a few minutes".into(),
            LoginProblem::Busy => "the server could not sign you in just now; try again shortly".into(),
            LoginProblem::Incomplete => "enter your email and a password of the allowed length".into(),
        }
    }
}

crate::domain::text_enum!(LoginProblem {
    LoginProblem::Credentials => "credentials",
    LoginProblem::Throttled => "throttled",
    LoginProblem::Busy => "busy",
    LoginProblem::Incomplete => "incomplete",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_problems_round_trip_and_name_the_credentials_case() {
        for p in [LoginProblem::Credentials, LoginProblem::Throttled, LoginProblem::Busy, LoginProblem::Incomplete] {
            assert_eq!(LoginProblem::parse(p.as_str()), Some(p));
        }
        assert_eq!(LoginProblem::parse("Call 555-0100"), None);
        assert_eq!(LoginProblem::of(&AppError::InvalidCredentials).message(), "the email or password is not right");
    }

    #[test]
    fn next_destinations_stay_on_this_site() {
        assert_eq!(safe_next("/dashboard?metric=revenue"), "/dashboard?metric=revenue");
        assert_eq!(safe_next("//evil.example/x"), "/");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next("/login?next=/x"), "/");
        assert_eq!(safe_next(""), "/");
        assert_eq!(safe_next("/\t/evil.example"), "/", "a tab browsers drop");
        assert_eq!(safe_next("/\n"), "/", "a newline that cannot go in a header");
        assert_eq!(safe_next("/\r\nSet-Cookie: x=1"), "/");
        assert_eq!(safe_next("/ /evil.example"), "/");
        assert_eq!(safe_next("/dashboard?metric=revenue&region=EMEA%2CNA#top"), "/dashboard?metric=revenue&region=EMEA%2CNA#top");
        assert_eq!(safe_next("/caf\u{e9}"), "/", "non-ASCII must come percent-encoded");
    }

    proptest::proptest! {
        #[test]
        fn any_next_is_home_or_a_local_path_a_header_can_carry(next in "\\PC{0,40}|/[\\x00-\\x7f]{0,40}") {
            let chosen = safe_next(&next);
            proptest::prop_assert!(chosen == "/" || (chosen.starts_with('/') && !chosen.starts_with("//")));
            proptest::prop_assert!(header_safe(chosen));
        }
    }

    /// Visible ASCII only: what a Location header carries as it is, and no browser rewrites.
    fn header_safe(value: &str) -> bool {
        value.bytes().all(|b| (0x21..0x7f).contains(&b))
    }
}

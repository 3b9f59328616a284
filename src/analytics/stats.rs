//! Robust and classical summary statistics over plain slices: median, MAD, mean, standard
//! deviation, and the robust z-score. Non-finite inputs are ignored; empty input gives `None`.

/// Scales the MAD so it estimates the standard deviation of normally distributed data.
pub const MAD_TO_SIGMA: f64 = 1.4826;

fn finite(values: &[f64]) -> Vec<f64> {
    values.iter().copied().filter(|v| v.is_finite()).collect()
}

/// The middle value; the mean of the two middle values for an even count.
pub fn median(values: &[f64]) -> Option<f64> {
    median_in_place(&mut finite(values))
}

/// The median of finite `values`, reordering them: O(n) selection, no allocation, so the anomaly
/// scan can take thousands of medians per series.
pub fn median_in_place(values: &mut [f64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mid = n / 2;
    let (lower, upper, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if n.is_multiple_of(2) {
        let below = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some((below + upper) / 2.0)
    } else {
        Some(upper)
    }
}

/// Median absolute deviation from the median: median(|xᵢ − median(x)|), unscaled.
pub fn mad(values: &[f64]) -> Option<f64> {
    let m = median(values)?;
    let deviations: Vec<f64> = finite(values).iter().map(|v| (v - m).abs()).collect();
    median(&deviations)
}

pub fn mean(values: &[f64]) -> Option<f64> {
    let v = finite(values);
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Sample standard deviation (n − 1 in the denominator); needs two values.
pub fn std_dev(values: &[f64]) -> Option<f64> {
    let v = finite(values);
    if v.len() < 2 {
        return None;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let ss: f64 = v.iter().map(|x| (x - m).powi(2)).sum();
    Some((ss / (v.len() - 1) as f64).sqrt())
}

/// Robust z-score of `x` against `reference`: (x − median) / (1.4826 · MAD).
/// `None` when the reference is empty or has no spread (MAD = 0), never NaN or infinity.
pub fn robust_z_score(x: f64, reference: &[f64]) -> Option<f64> {
    let m = median(reference)?;
    let scale = MAD_TO_SIGMA * mad(reference)?;
    (scale > 0.0 && x.is_finite()).then(|| (x - m) / scale)
}

/// P(|Z| > z) for a standard normal Z.
pub fn normal_two_sided_tail(z: f64) -> f64 {
    libm::erfc(z.abs() / std::f64::consts::SQRT_2)
}

/// P(|T| > t) for Student's t with `nu` ≥ 1 degrees of freedom, from the finite series of
/// Abramowitz & Stegun 26.7.3 (odd ν) and 26.7.4 (even ν): with θ = atan(|t|/√ν), c = cos θ,
/// P(|T| ≤ t) = (2/π)(θ + sin θ · c · Σ) for odd ν and sin θ · Σ for even ν, Σ the sum of
/// the terms c^2k times (2·4·…)/(3·5·…) (odd) or (1·3·…)/(2·4·…) (even).
pub fn student_t_two_sided_tail(t: f64, nu: u32) -> f64 {
    let nu = nu.max(1);
    let theta = (t.abs() / f64::from(nu).sqrt()).atan();
    let (sin, cos) = theta.sin_cos();
    let c2 = cos * cos;
    let inside = if nu % 2 == 1 {
        let (mut term, mut sum) = (1.0, 0.0);
        if nu > 1 {
            sum = 1.0;
            for k in (3..nu - 1).step_by(2) {
                term *= f64::from(k - 1) / f64::from(k) * c2;
                sum += term;
            }
        }
        std::f64::consts::FRAC_2_PI * (theta + sin * cos * sum)
    } else {
        let (mut term, mut sum) = (1.0, 1.0);
        for k in (2..nu - 1).step_by(2) {
            term *= f64::from(k - 1) / f64::from(k) * c2;
            sum += term;
        }
        sin * sum
    };
    (1.0 - inside).clamp(0.0, 1.0)
}

/// Welch's t-test of the difference of two means (unequal variances): the two-sided p-value of
/// mean(`current`) − mean(`previous`), with Welch–Satterthwaite degrees of freedom. `None` with
/// fewer than two values on a side or no spread at all.
pub fn welch_p_value(current: &[f64], previous: &[f64]) -> Option<f64> {
    let (a, b) = (finite(current), finite(previous));
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (va, vb) = (std_dev(&a)?.powi(2) / na, std_dev(&b)?.powi(2) / nb);
    if va + vb <= 0.0 {
        return None;
    }
    let t = (mean(&a)? - mean(&b)?) / (va + vb).sqrt();
    let df = (va + vb).powi(2) / (va.powi(2) / (na - 1.0) + vb.powi(2) / (nb - 1.0));
    Some(student_t_two_sided_tail(t, df.round().clamp(1.0, 10_000.0) as u32))
}

/// The `t` > 0 with `tail(t)` = `p`, for a tail probability that falls as `t` grows; by bisection.
pub fn invert_tail(tail: impl Fn(f64) -> f64, p: f64) -> f64 {
    let (mut low, mut high) = (0.0, 1.0);
    while tail(high) > p && high < 1e6 {
        high *= 2.0;
    }
    for _ in 0..100 {
        let mid = 0.5 * (low + high);
        if tail(mid) > p { low = mid } else { high = mid }
    }
    0.5 * (low + high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welch_tells_a_real_shift_from_noise() {
        // Means 10 and 12, each side's variance 10/9 over 10 days: t = 2 / sqrt(2 · (10/9) / 10)
        // = 4.24, and equal sides give df = 2 · (10 − 1) = 18.
        let previous = [9.0, 11.0, 9.0, 11.0, 9.0, 11.0, 9.0, 11.0, 9.0, 11.0];
        let current: Vec<f64> = previous.iter().map(|x| x + 2.0).collect();
        let p = welch_p_value(&current, &previous).expect("spread on both sides");
        let t = 2.0 / (2.0 * (10.0 / 9.0) / 10.0f64).sqrt();
        assert!((p - student_t_two_sided_tail(t, 18)).abs() < 1e-12, "{p}");
        assert!(p < 0.001);
        let shifted: Vec<f64> = previous.iter().map(|x| x + 0.1).collect();
        assert!(welch_p_value(&shifted, &previous).expect("p") > 0.5, "a shift far inside the noise");
        assert_eq!(welch_p_value(&[1.0], &previous), None);
        assert_eq!(welch_p_value(&[2.0, 2.0], &[2.0, 2.0]), None);
    }
    use proptest::prelude::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5)); // (2 + 3) / 2
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN, 5.0]), Some(5.0));
    }

    #[test]
    fn mad_by_hand() {
        // median(1,2,3,4,100) = 3; |dev| = 2,1,0,1,97 -> sorted 0,1,1,2,97 -> MAD = 1.
        assert_eq!(mad(&[1.0, 2.0, 3.0, 4.0, 100.0]), Some(1.0));
    }

    #[test]
    fn std_dev_by_hand() {
        // mean 5; squared deviations 9,1,1,9 sum 20; 20 / 3 = 6.667; sqrt = 2.5820.
        let s = std_dev(&[2.0, 4.0, 6.0, 8.0]).expect("two or more values");
        assert!((s - (20.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(std_dev(&[1.0]), None);
    }

    #[test]
    fn robust_z_by_hand() {
        // Reference 1,2,3,4,100: median 3, MAD 1, scale 1.4826. x = 10 -> (10 − 3) / 1.4826 = 4.7214.
        let z = robust_z_score(10.0, &[1.0, 2.0, 3.0, 4.0, 100.0]).expect("spread");
        assert!((z - 7.0 / 1.4826).abs() < 1e-12);
    }

    #[test]
    fn robust_z_of_a_constant_series_is_none() {
        assert_eq!(robust_z_score(5.0, &[5.0; 10]), None);
        assert_eq!(robust_z_score(6.0, &[5.0; 10]), None);
        assert_eq!(robust_z_score(6.0, &[]), None);
    }

    proptest! {
        #[test]
        fn median_in_place_matches_a_full_sort(
            values in prop_oneof![
                proptest::collection::vec(-1e6f64..1e6, 1..200),
                // Many ties: the hard case for a partition.
                proptest::collection::vec((0u8..4).prop_map(f64::from), 1..200),
            ],
        ) {
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let n = sorted.len();
            let expected = if n % 2 == 0 { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 } else { sorted[n / 2] };
            let mut scratch = values.clone();
            prop_assert_eq!(median_in_place(&mut scratch), Some(expected));
        }

        #[test]
        fn robust_z_is_never_nan_or_infinite(
            reference in proptest::collection::vec(-1e6f64..1e6, 0..40),
            x in -1e6f64..1e6,
        ) {
            if let Some(z) = robust_z_score(x, &reference) {
                prop_assert!(z.is_finite());
            }
        }

        #[test]
        fn robust_z_is_invariant_to_shift_and_positive_scale(
            reference in proptest::collection::vec(-1e3f64..1e3, 5..40),
            x in -1e3f64..1e3,
            shift in -1e3f64..1e3,
            scale in 0.1f64..10.0,
        ) {
            let moved: Vec<f64> = reference.iter().map(|v| v * scale + shift).collect();
            match (robust_z_score(x, &reference), robust_z_score(x * scale + shift, &moved)) {
                (Some(a), Some(b)) => prop_assert!((a - b).abs() < 1e-6 * (1.0 + a.abs())),
                (None, None) => {}
                // Rounding can turn a tiny MAD into exactly zero on one side only.
                (a, b) => prop_assert!(a.is_none_or(|z| z.abs() > 1e6) || b.is_none_or(|z| z.abs() > 1e6)),
            }
        }
    }

    #[test]
    fn t_tails_match_published_quantiles_and_approach_the_normal() {
        // Two-sided 5 % and 1 % critical values of t from the usual tables.
        for (nu, t05, t01) in [(1, 12.706, 63.657), (2, 4.303, 9.925), (3, 3.182, 5.841), (5, 2.571, 4.032), (10, 2.228, 3.169), (30, 2.042, 2.750)] {
            assert!((student_t_two_sided_tail(t05, nu) - 0.05).abs() < 2e-4, "nu {nu}: {}", student_t_two_sided_tail(t05, nu));
            assert!((student_t_two_sided_tail(t01, nu) - 0.01).abs() < 1e-4, "nu {nu}");
        }
        assert!((normal_two_sided_tail(1.959964) - 0.05).abs() < 1e-6);
        // t tails exceed the normal's by about (z⁴ + 2z² − 3) / 4ν: 1.4 % at z = 3, ν = 2000.
        assert!((student_t_two_sided_tail(3.0, 2000) / normal_two_sided_tail(3.0) - 1.0).abs() < 0.02);
        assert!((invert_tail(normal_two_sided_tail, 0.01) - 2.575829).abs() < 1e-5);
        assert!((invert_tail(|t| student_t_two_sided_tail(t, 5), 0.01) - 4.032).abs() < 1e-3);
    }
}

//! `early_terminate: {type: hyperband}`, W&B's rule (wandb/sweeps `hyperband_stopping.py`):
//! bands at `min_iter·eta^k` (or `max_iter/eta^k` over `s` brackets); a band's threshold is the
//! value at index `⌊n/eta⌋` of the sorted values, at that band, of the runs that reached it; a
//! running run past a band is stopped when its best value so far (strict: its value at the band)
//! is worse than the threshold of the last band it passed. A run's "iteration" is the index of a
//! value in its history of the metric.

use super::config::EarlyTerminate;

/// One run's history of the metric as losses (maximised metrics negated), finite values only.
#[derive(Debug, Clone)]
pub struct RunHistory {
    pub run: String,
    pub losses: Vec<f64>,
    pub running: bool,
}

/// The iterations at which runs are judged, ascending.
pub fn bands(rule: &EarlyTerminate) -> Vec<u64> {
    let EarlyTerminate::Hyperband {
        min_iter,
        max_iter,
        s,
        eta,
        ..
    } = rule;
    let mut bands = Vec::new();
    if let (Some(max_iter), Some(s)) = (max_iter, s) {
        let mut band = *max_iter as f64;
        for _ in 0..*s {
            band /= eta;
            if band < 1.0 {
                break;
            }
            bands.push(band as u64);
        }
        bands.sort_unstable();
    } else if let Some(min_iter) = min_iter {
        let mut band = *min_iter as f64;
        // W&B makes 100 bands; those past any history's length never matter.
        while bands.len() < 100 && band < 1e15 {
            bands.push(band as u64);
            band *= eta;
        }
    }
    bands
}

/// The runs W&B's hyperband would stop now, among the `running` ones.
pub fn runs_to_stop(rule: &EarlyTerminate, histories: &[RunHistory]) -> Vec<String> {
    let EarlyTerminate::Hyperband { eta, strict, .. } = rule;
    let bands = bands(rule);
    let r = 1.0 / eta;
    let thresholds: Vec<f64> = bands
        .iter()
        .map(|&band| {
            let mut at_band: Vec<f64> = histories
                .iter()
                .filter(|h| !h.losses.is_empty() && h.losses.len() as u64 >= band)
                .map(|h| h.losses[band as usize - 1])
                .collect();
            if at_band.is_empty() {
                return f64::INFINITY;
            }
            at_band.sort_by(f64::total_cmp);
            at_band[(r * at_band.len() as f64) as usize]
        })
        .collect();
    let mut stop = Vec::new();
    for h in histories.iter().filter(|h| h.running) {
        let passed = bands
            .iter()
            .zip(&thresholds)
            .take_while(|(band, _)| **band <= h.losses.len() as u64)
            .last();
        let Some((&band, &threshold)) = passed else {
            continue;
        };
        let value = if *strict {
            h.losses[band as usize - 1]
        } else {
            h.losses.iter().copied().fold(f64::INFINITY, f64::min)
        };
        if value > threshold {
            stop.push(h.run.clone());
        }
    }
    stop
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        min_iter: Option<u64>,
        max_iter: Option<u64>,
        s: Option<u64>,
        strict: bool,
    ) -> EarlyTerminate {
        EarlyTerminate::Hyperband {
            min_iter,
            max_iter,
            s,
            eta: 3.0,
            strict,
        }
    }

    fn run(name: &str, losses: &[f64], running: bool) -> RunHistory {
        RunHistory {
            run: name.into(),
            losses: losses.to_vec(),
            running,
        }
    }

    #[test]
    fn bands_grow_from_min_iter_or_shrink_from_max_iter() {
        assert_eq!(bands(&rule(Some(3), None, None, true))[..4], [3, 9, 27, 81]);
        // max_iter 27, s 2, eta 3: 27/3 = 9, 9/3 = 3.
        assert_eq!(bands(&rule(None, Some(27), Some(2), true)), vec![3, 9]);
        assert_eq!(bands(&rule(None, Some(5), Some(3), true)), vec![1]);
    }

    #[test]
    fn stops_the_runs_wandb_stops() {
        // Band 2 (min_iter 2). Values at index 1: 0.5, 0.4, 0.9, 0.3 → sorted [0.3, 0.4, 0.5,
        // 0.9], threshold at ⌊4/3⌋ = 1: 0.4.
        let histories = [
            run("done-a", &[1.0, 0.5, 0.45], false),
            run("done-b", &[1.0, 0.4], false),
            run("bad", &[1.0, 0.9], true),
            run("good", &[1.0, 0.3], true),
            run("young", &[5.0], true),
        ];
        assert_eq!(
            runs_to_stop(&rule(Some(2), None, None, true), &histories),
            ["bad"]
        );
        // Not strict: the best value so far counts, so a run that dipped once survives.
        let dipped = [
            run("done-a", &[1.0, 0.5], false),
            run("done-b", &[1.0, 0.4], false),
            run("dipped", &[0.1, 0.9], true),
        ];
        assert!(runs_to_stop(&rule(Some(2), None, None, false), &dipped).is_empty());
        assert_eq!(
            runs_to_stop(&rule(Some(2), None, None, true), &dipped),
            ["dipped"]
        );
    }

    #[test]
    fn a_lone_run_is_never_worse_than_itself() {
        let histories = [run("only", &[3.0, 2.0, 1.0], true)];
        assert!(runs_to_stop(&rule(Some(1), None, None, true), &histories).is_empty());
    }
}

//! Prometheus metrics of a [`Verifier`] (feature `prometheus`, over the Prometheus project's
//! own client, `prometheus-client`): what an operator watches of key verification, whatever the
//! web framework around it.
//!
//! [`VerifierMetrics::register`] adds to a [`Registry`]:
//!
//! | metric | type | labels | what |
//! | --- | --- | --- | --- |
//! | `idunox_verifications_total` | counter | `outcome` | verifications the service [recorded](VerifierMetrics::record): `ok`, or the refusal's [`reason`](Refusal::reason) (`missing`, `bad_checksum`, `wrong_environment`, `unknown_key_id`, `wrong_secret`, `revoked`, `expired`, `ip_not_allowed`, `key_busy`, `store_unavailable`, …) |
//! | `idunox_verifier_warm_keys` | gauge | | keys whose verified secret's digest is remembered |
//! | `idunox_verifier_cached_records` | gauge | | credential records cached under the change feed |
//! | `idunox_verifier_unknown_ids` | gauge | | key ids remembered as unknown under the change feed |
//! | `idunox_verifier_failing_ids` | gauge | | key ids with argon2 failures in their current window |
//! | `idunox_cold_verifications_in_flight` | gauge | | key ids with a cold (argon2) verification in flight |
//! | `idunox_argon2_in_flight` | gauge | | argon2 runs admitted to the budget (running or queued), hashing included |
//! | `idunox_argon2_queued` | gauge | | of those, runs waiting for a worker |
//! | `idunox_argon2_refused_total` | counter | | runs refused at once because the budget was full (each a 503) |
//! | `idunox_argon2_runs_total` | counter | `kind` (`hash`, `verify`) | argon2 runs completed |
//! | `idunox_argon2_interrupted_total` | counter | | admitted runs that did not complete (caller gone) |
//! | `idunox_change_feed_lag_seconds` | gauge | | how far behind now the change feed is confirmed; `+Inf` while it is not confirmed at all; absent without a feed |
//!
//! Every value is read from [`Verifier::stats`] and [`HashBudget::stats`](crate::HashBudget::stats)
//! at scrape time, except the verification counter. Labels are a fixed, small set: no key
//! material, no key id, no tenant.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use idunox_keys::{KeyFormat, MemoryStore, Verifier, metrics::VerifierMetrics};
//! use prometheus_client::{encoding::prometheus_text::encode, registry::Registry};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let verifier = Verifier::new(Arc::new(MemoryStore::new()), KeyFormat::new("idx", "test")?);
//! let mut registry = Registry::default();
//! let metrics = VerifierMetrics::register(&mut registry, &verifier);
//!
//! // Wherever the service verifies a key:
//! let answer = verifier.verify_str("idx_test_not-a-key").await;
//! metrics.record(answer.as_ref());
//!
//! let mut text = String::new();
//! encode(&mut text, &registry)?;
//! assert!(text.contains(r#"idunox_verifications_total{outcome="malformed"} 1"#), "{text}");
//! assert!(text.contains("idunox_argon2_refused_total 0"));
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```

use core::fmt;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use crate::{KeyStore, Refusal, VerifiedKey, Verifier};

/// The label of `idunox_verifications_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

/// The label of `idunox_argon2_runs_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunKind {
    kind: &'static str,
}

/// The verification counter of a service, and its verifier's state read at scrape time; see the
/// [module docs](self). Cheap to clone; clones count together.
#[derive(Clone, Debug)]
pub struct VerifierMetrics {
    verifications: Family<Outcome, Counter>,
}

impl VerifierMetrics {
    /// Register the metrics of `verifier` (a clone of it is kept, to read its state at scrape
    /// time) in `registry`, and return the counter the service records its verifications in.
    pub fn register<S: KeyStore>(registry: &mut Registry, verifier: &Verifier<S>) -> Self {
        let verifications = Family::<Outcome, Counter>::default();
        registry.register(
            "idunox_verifications",
            "API key verifications by outcome: ok, or the refusal's reason",
            verifications.clone(),
        );
        registry.register_collector(Box::new(VerifierState {
            verifier: verifier.clone(),
        }));
        Self { verifications }
    }

    /// Count one verification's answer.
    pub fn record(&self, answer: Result<&VerifiedKey, &Refusal>) {
        match answer {
            Ok(_) => self.ok(),
            Err(refusal) => self.refused(refusal),
        }
    }

    /// Count one accepted key.
    pub fn ok(&self) {
        self.count("ok");
    }

    /// Count one refusal, by its [`reason`](Refusal::reason).
    pub fn refused(&self, refusal: &Refusal) {
        self.count(refusal.reason());
    }

    fn count(&self, outcome: &'static str) {
        self.verifications.get_or_create(&Outcome { outcome }).inc();
    }
}

/// Reads a verifier's state at scrape time.
struct VerifierState<S> {
    verifier: Verifier<S>,
}

impl<S> fmt::Debug for VerifierState<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierState").finish_non_exhaustive()
    }
}

impl<S: KeyStore> Collector for VerifierState<S> {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), fmt::Error> {
        let stats = self.verifier.stats();
        let budget = self.verifier.budget().stats();
        let gauges: [(&str, &str, usize); 7] = [
            (
                "idunox_verifier_warm_keys",
                "Keys whose verified secret's digest is remembered",
                stats.warm_keys,
            ),
            (
                "idunox_verifier_cached_records",
                "Credential records cached under the change feed",
                stats.cached_records,
            ),
            (
                "idunox_verifier_unknown_ids",
                "Key ids remembered as unknown under the change feed",
                stats.unknown_ids,
            ),
            (
                "idunox_verifier_failing_ids",
                "Key ids with argon2 failures in their current window",
                stats.failing_ids,
            ),
            (
                "idunox_cold_verifications_in_flight",
                "Key ids with a cold (argon2) verification in flight",
                stats.cold_in_flight,
            ),
            (
                "idunox_argon2_in_flight",
                "argon2 runs admitted to the budget, running or queued",
                budget.in_flight,
            ),
            (
                "idunox_argon2_queued",
                "argon2 runs admitted and waiting for a worker",
                budget.queued,
            ),
        ];
        for (name, help, value) in gauges {
            let gauge = ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX));
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        let counters: [(&str, &str, u64); 2] = [
            (
                "idunox_argon2_refused",
                "argon2 runs refused at once because the budget was full",
                budget.refused,
            ),
            (
                "idunox_argon2_interrupted",
                "Admitted argon2 runs that did not complete",
                budget.interrupted,
            ),
        ];
        for (name, help, value) in counters {
            let counter = ConstCounter::new(value);
            counter.encode(encoder.encode_descriptor(
                name,
                help,
                None,
                counter.metric_type(),
            )?)?;
        }
        let mut runs = encoder.encode_descriptor(
            "idunox_argon2_runs",
            "argon2 runs completed, by kind",
            None,
            ConstCounter::new(0u64).metric_type(),
        )?;
        for (kind, value) in [("hash", budget.hashes), ("verify", budget.verifications)] {
            ConstCounter::new(value).encode(runs.encode_family(&RunKind { kind })?)?;
        }
        if self.verifier.has_change_feed() {
            let lag = stats.feed_lag.map_or(f64::INFINITY, |d| d.as_secs_f64());
            let gauge = ConstGauge::new(lag);
            gauge.encode(encoder.encode_descriptor(
                "idunox_change_feed_lag_seconds",
                "How far behind now the change feed is confirmed (+Inf: not confirmed)",
                None,
                gauge.metric_type(),
            )?)?;
        }
        Ok(())
    }
}

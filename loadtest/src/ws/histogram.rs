//! Trigger-to-delivery latencies of every delivery, counted without locks: 10 µs buckets up
//! to 10 ms, then 1 ms buckets up to 10 s (longer counts as 10 s).

use std::sync::atomic::{AtomicU64, Ordering};

const FINE: u64 = 1_000; // 10 µs buckets below 10 ms
const COARSE: u64 = 9_990; // 1 ms buckets from 10 ms to 10 s

/// A latency histogram shared by every connection's reader.
#[derive(Debug)]
pub(crate) struct Histogram {
    buckets: Vec<AtomicU64>,
}

impl Histogram {
    pub(crate) fn new() -> Self {
        Self {
            buckets: (0..FINE + COARSE + 1).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn index(micros: u64) -> usize {
        let i = if micros < 10_000 {
            micros / 10
        } else {
            (FINE + (micros - 10_000) / 1_000).min(FINE + COARSE)
        };
        usize::try_from(i).unwrap_or(usize::MAX)
    }

    /// The bucket's upper edge, in µs.
    fn upper(i: usize) -> u64 {
        let i = i as u64;
        if i < FINE {
            (i + 1) * 10
        } else {
            10_000 + (i - FINE + 1) * 1_000
        }
    }

    pub(crate) fn record(&self, micros: u64) {
        if let Some(b) = self.buckets.get(Self::index(micros)) {
            b.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn reset(&self) {
        for b in &self.buckets {
            b.store(0, Ordering::Relaxed);
        }
    }

    pub(crate) fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    /// The `q` quantile (0..=1) in µs, at the bucket's upper edge; 0 when empty.
    pub(crate) fn quantile(&self, q: f64) -> u64 {
        let total = self.count();
        if total == 0 {
            return 0;
        }
        let rank = ((total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            seen += b.load(Ordering::Relaxed);
            if seen >= rank {
                return Self::upper(i);
            }
        }
        Self::upper(self.buckets.len() - 1)
    }
}

//! The per-token rate limit: requests per minute, each token with its own limit (GCRA from
//! `governor`, burst equal to the per-minute limit). State is in memory, per server process;
//! a token whose limit changes gets a fresh limiter.

use std::num::NonZeroU32;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use foldhash::HashMap;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use tessera_core::model::TokenId;

type Limiter = RateLimiter<NotKeyed, InMemoryState, DefaultClock, StateInformationMiddleware>;

/// The answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Allowed; this many requests remain in the current burst.
    Yes { remaining: u32 },
    /// Refused; retry after this long.
    No { retry_after: Duration },
}

#[derive(Default)]
pub struct RateLimits {
    by_token: Mutex<HashMap<TokenId, (u32, Limiter)>>,
}

impl RateLimits {
    pub fn check(&self, token: TokenId, per_minute: u32) -> Admit {
        // The check itself is a few atomic operations, so it runs under the lock.
        let mut map = self.by_token.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = map
            .entry(token)
            .or_insert_with(|| (per_minute, new_limiter(per_minute)));
        if entry.0 != per_minute {
            *entry = (per_minute, new_limiter(per_minute));
        }
        let limiter = &entry.1;
        match limiter.check() {
            Ok(snapshot) => Admit::Yes {
                remaining: snapshot.remaining_burst_capacity(),
            },
            Err(not_until) => Admit::No {
                retry_after: not_until.wait_time_from(limiter.clock().now()),
            },
        }
    }
}

fn new_limiter(per_minute: u32) -> Limiter {
    let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
    RateLimiter::direct(Quota::per_minute(n)).with_middleware::<StateInformationMiddleware>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_gets_its_burst_then_a_retry_time() {
        let rl = RateLimits::default();
        let t = TokenId(1);
        for i in (0..3).rev() {
            assert_eq!(rl.check(t, 3), Admit::Yes { remaining: i });
        }
        match rl.check(t, 3) {
            Admit::No { retry_after } => assert!(retry_after <= Duration::from_secs(20)),
            other => panic!("expected a refusal, got {other:?}"),
        }
        // Another token is not affected, and a changed limit starts afresh.
        assert!(matches!(rl.check(TokenId(2), 3), Admit::Yes { .. }));
        assert!(matches!(rl.check(t, 10), Admit::Yes { .. }));
    }
}

//! The per-token rate limit: requests per minute, each token with its own limit (GCRA from
//! `governor`, burst equal to the per-minute limit). State is in memory, per server process;
//! a token whose limit changes gets a fresh limiter.

use std::net::IpAddr;
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
    by_address: Mutex<HashMap<IpAddr, Limiter>>,
}

impl RateLimits {
    /// Presentations of unknown or malformed tokens one client address may make a minute.
    pub const PER_ADDRESS: u32 = 120;
    /// Addresses tracked at once; when full the table starts afresh (bounded memory).
    const MAX_ADDRESSES: usize = 65_536;

    /// The limit for presentations that match no token, per client address.
    pub fn check_address(&self, ip: Option<IpAddr>) -> Admit {
        let key = ip.unwrap_or(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED));
        let mut map = self
            .by_address
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if map.len() >= Self::MAX_ADDRESSES && !map.contains_key(&key) {
            map.clear();
        }
        let limiter = map
            .entry(key)
            .or_insert_with(|| new_limiter(Self::PER_ADDRESS));
        admit(limiter)
    }

    pub fn check(&self, token: TokenId, per_minute: u32) -> Admit {
        // The check itself is a few atomic operations, so it runs under the lock.
        let mut map = self.by_token.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = map
            .entry(token)
            .or_insert_with(|| (per_minute, new_limiter(per_minute)));
        if entry.0 != per_minute {
            *entry = (per_minute, new_limiter(per_minute));
        }
        admit(&entry.1)
    }
}

fn admit(limiter: &Limiter) -> Admit {
    match limiter.check() {
        Ok(snapshot) => Admit::Yes {
            remaining: snapshot.remaining_burst_capacity(),
        },
        Err(not_until) => Admit::No {
            retry_after: not_until.wait_time_from(limiter.clock().now()),
        },
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

    #[test]
    fn unknown_tokens_are_limited_per_address() {
        let rl = RateLimits::default();
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        for _ in 0..RateLimits::PER_ADDRESS {
            assert!(matches!(rl.check_address(Some(a)), Admit::Yes { .. }));
        }
        assert!(matches!(rl.check_address(Some(a)), Admit::No { .. }));
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        assert!(matches!(rl.check_address(Some(b)), Admit::Yes { .. }));
    }
}

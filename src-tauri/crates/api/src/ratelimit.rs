//! The per-token rate limit: requests per minute, each token with its own limit (GCRA from
//! `governor`, burst equal to the per-minute limit); an OAuth client's access tokens share
//! their client's ([`tessera_core::verify::VerifiedToken::rate_key`]). State is in memory,
//! per server process; a key whose limit changes gets a fresh limiter. Failed client
//! authentications at the OAuth endpoints are limited per client and per address.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use foldhash::HashMap;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

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
    by_token: Mutex<HashMap<i64, (u32, Limiter)>>,
    by_address: Mutex<HashMap<IpAddr, Limiter>>,
    /// Wrong client secrets, per `client_id` and per address.
    failed_clients: Mutex<HashMap<String, Failures>>,
    failed_addresses: Mutex<HashMap<IpAddr, Failures>>,
}

/// Failures of one key: a limiter that only failures spend, and when it ran out, until when
/// every attempt is refused (governor has no way to ask without spending).
struct Failures {
    limiter: Limiter,
    blocked_until: Option<std::time::Instant>,
}

impl Failures {
    fn new(per_minute: u32) -> Self {
        Self {
            limiter: new_limiter(per_minute),
            blocked_until: None,
        }
    }

    /// One more failure; the one that spends the last of the minute's blocks the key until
    /// the next is earned back.
    fn fail(&mut self) {
        let wait = match self.limiter.check() {
            Ok(left) if left.remaining_burst_capacity() > 0 => return,
            Ok(left) => left.quota().replenish_interval(),
            Err(not_until) => not_until.wait_time_from(self.limiter.clock().now()),
        };
        self.blocked_until = Some(std::time::Instant::now() + wait);
    }
}

/// Characters of a client_id or account kept as its key in the failures table.
const KEY_CHARS: usize = 80;

/// An account's key in the failures table: `client_id`s start `tsc_`, so the two never meet.
fn account_key(email: &str) -> String {
    format!("account:{}", email.trim().to_lowercase())
}

fn address_key(ip: Option<IpAddr>) -> IpAddr {
    ip.unwrap_or(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED))
}

impl RateLimits {
    /// Presentations of unknown or malformed tokens one client address may make a minute.
    pub const PER_ADDRESS: u32 = 120;
    /// Addresses tracked at once; when full the table starts afresh (bounded memory).
    const MAX_ADDRESSES: usize = 65_536;

    /// The limit for presentations that match no token, per client address.
    pub fn check_address(&self, ip: Option<IpAddr>) -> Admit {
        let key = address_key(ip);
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

    /// Wrong secrets one `client_id` may be sent with a minute, from anywhere.
    pub const CLIENT_FAILURES: u32 = 10;
    /// Failed client authentications one address may make a minute.
    pub const ADDRESS_FAILURES: u32 = 30;

    /// How long before client authentication may be tried again for `client_id` from `ip`,
    /// if either has spent its failures; only failures spend them ([`Self::failed_client`]).
    pub fn client_blocked(&self, client_id: &str, ip: Option<IpAddr>) -> Option<Duration> {
        let now = std::time::Instant::now();
        let left =
            |until: Option<std::time::Instant>| until.and_then(|u| u.checked_duration_since(now));
        let by_client = {
            let map = self
                .failed_clients
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let key: String = client_id.chars().take(KEY_CHARS).collect();
            left(map.get(&key).and_then(|f| f.blocked_until))
        };
        let by_address = {
            let map = self
                .failed_addresses
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            left(map.get(&address_key(ip)).and_then(|f| f.blocked_until))
        };
        by_client.max(by_address)
    }

    /// A failed client authentication: spends one of the client's and one of the address's.
    pub fn failed_client(&self, client_id: &str, ip: Option<IpAddr>) {
        self.failed(client_id, Self::CLIENT_FAILURES, ip);
    }

    /// A failure of `key` (a client or an account, `per_minute` a minute) from `ip`.
    fn failed(&self, key: &str, per_minute: u32, ip: Option<IpAddr>) {
        {
            let mut map = self
                .failed_clients
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if map.len() >= Self::MAX_ADDRESSES && !map.contains_key(key) {
                map.clear();
            }
            // An unknown client_id or e-mail is limited too (by the address mostly): its text
            // is clipped so a flood of long ids cannot grow the table's memory.
            let key: String = key.chars().take(KEY_CHARS).collect();
            map.entry(key)
                .or_insert_with(|| Failures::new(per_minute))
                .fail();
        }
        let mut map = self
            .failed_addresses
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if map.len() >= Self::MAX_ADDRESSES && !map.contains_key(&address_key(ip)) {
            map.clear();
        }
        map.entry(address_key(ip))
            .or_insert_with(|| Failures::new(Self::ADDRESS_FAILURES))
            .fail();
    }

    /// Wrong passwords one account may be sent a minute at this server, from anywhere (the
    /// core also slows each next attempt, counted in the database: 0.5 s, 1 s, 2 s, 4 s...).
    pub const ACCOUNT_FAILURES: u32 = 5;

    /// How long before a sign-in to `email` from `ip` may be tried again, if the account or
    /// the address has spent its failures (the address's are shared with client
    /// authentications, clipped like them).
    pub fn sign_in_blocked(&self, email: &str, ip: Option<IpAddr>) -> Option<Duration> {
        self.client_blocked(&account_key(email), ip)
    }

    /// A failed sign-in: spends one of the account's and one of the address's.
    pub fn failed_sign_in(&self, email: &str, ip: Option<IpAddr>) {
        self.failed(&account_key(email), Self::ACCOUNT_FAILURES, ip);
    }

    pub fn check(&self, token: i64, per_minute: u32) -> Admit {
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
        let t = 1;
        for i in (0..3).rev() {
            assert_eq!(rl.check(t, 3), Admit::Yes { remaining: i });
        }
        match rl.check(t, 3) {
            Admit::No { retry_after } => assert!(retry_after <= Duration::from_secs(20)),
            other => panic!("expected a refusal, got {other:?}"),
        }
        // Another token is not affected, and a changed limit starts afresh.
        assert!(matches!(rl.check(2, 3), Admit::Yes { .. }));
        assert!(matches!(rl.check(t, 10), Admit::Yes { .. }));
    }

    #[test]
    fn wrong_client_secrets_block_the_client_then_the_address() {
        let rl = RateLimits::default();
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        for _ in 0..RateLimits::CLIENT_FAILURES {
            assert_eq!(rl.client_blocked("tsc_one", Some(a)), None);
            rl.failed_client("tsc_one", Some(a));
        }
        assert!(
            rl.client_blocked("tsc_one", Some(b)).is_some(),
            "blocked from anywhere"
        );
        assert_eq!(rl.client_blocked("tsc_two", Some(b)), None);
        for i in 1..RateLimits::ADDRESS_FAILURES {
            rl.failed_client(&format!("tsc_{i}"), Some(b));
        }
        assert_eq!(rl.client_blocked("tsc_new", Some(b)), None);
        rl.failed_client("tsc_last", Some(b));
        assert!(
            rl.client_blocked("tsc_new", Some(b)).is_some(),
            "the address is blocked"
        );
        assert_eq!(rl.client_blocked("tsc_new", Some(a)), None);
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

//! Sign-in attempts per client. After [`MAX_FAILURES`] wrong tokens within [`WINDOW`], a
//! client's next attempts are refused without the token being looked at, until the oldest
//! failure leaves the window: guessing is bounded whatever the token's strength.
//!
//! A client is its IP address; IPv6 addresses count by their /64 network, since one machine
//! can pick any address inside its own. Behind a reverse proxy every browser arrives from the
//! proxy's address and shares one allowance, which only makes guessing harder.

use std::{
    collections::{HashMap, VecDeque},
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Wrong tokens a client may send within [`WINDOW`].
pub const MAX_FAILURES: usize = 5;
/// How far back failures count.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Clients remembered at most; beyond that every unknown client shares one allowance, so a
/// flood of addresses can't grow the table without end.
const MAX_CLIENTS: usize = 10_000;

/// Who is signing in, as far as the limit is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Client {
    V4([u8; 4]),
    V6Network([u8; 8]),
    /// No address known (a request without connection info), or the table is full.
    Unknown,
}

impl Client {
    fn of(address: Option<IpAddr>) -> Self {
        match address.map(|a| a.to_canonical()) {
            Some(IpAddr::V4(v4)) => Client::V4(v4.octets()),
            Some(IpAddr::V6(v6)) => {
                let mut network = [0u8; 8];
                network.copy_from_slice(&v6.octets()[..8]);
                Client::V6Network(network)
            }
            None => Client::Unknown,
        }
    }
}

/// The failures of every client, within the window.
#[derive(Default)]
pub(crate) struct SignInAttempts {
    failures: Mutex<HashMap<Client, VecDeque<Instant>>>,
}

impl SignInAttempts {
    /// `Err(wait)` when the client from `address` has used up its attempts: it may try again
    /// after `wait`.
    pub(crate) fn allow(&self, address: Option<IpAddr>) -> Result<(), Duration> {
        let now = Instant::now();
        let mut failures = self.lock();
        let client = Self::key(&failures, Client::of(address));
        let Some(recent) = failures.get_mut(&client) else { return Ok(()) };
        recent.retain(|at| now.duration_since(*at) < WINDOW);
        match recent.front() {
            Some(oldest) if recent.len() >= MAX_FAILURES => Err(WINDOW.saturating_sub(now.duration_since(*oldest))),
            _ => Ok(()),
        }
    }

    /// Counts a wrong token from `address`.
    pub(crate) fn failed(&self, address: Option<IpAddr>) {
        let now = Instant::now();
        let mut failures = self.lock();
        failures.retain(|_, recent| recent.back().is_some_and(|at| now.duration_since(*at) < WINDOW));
        let client = Self::key(&failures, Client::of(address));
        let recent = failures.entry(client).or_default();
        recent.push_back(now);
        while recent.len() > MAX_FAILURES {
            recent.pop_front();
        }
    }

    /// Forgets a client's failures once it has signed in.
    pub(crate) fn succeeded(&self, address: Option<IpAddr>) {
        let mut failures = self.lock();
        let client = Self::key(&failures, Client::of(address));
        failures.remove(&client);
    }

    /// The table's key for `client`: itself, unless the table is full and doesn't know it.
    fn key(failures: &HashMap<Client, VecDeque<Instant>>, client: Client) -> Client {
        if failures.len() >= MAX_CLIENTS && !failures.contains_key(&client) {
            Client::Unknown
        } else {
            client
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Client, VecDeque<Instant>>> {
        self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_max_failures_then_waits() {
        let attempts = SignInAttempts::default();
        let ada: Option<IpAddr> = "192.0.2.7".parse().ok();
        let grace: Option<IpAddr> = "192.0.2.8".parse().ok();
        for _ in 0..MAX_FAILURES {
            assert_eq!(attempts.allow(ada), Ok(()));
            attempts.failed(ada);
        }
        let wait = attempts.allow(ada).err();
        assert!(wait.is_some_and(|w| w > Duration::ZERO && w <= WINDOW), "{wait:?}");
        assert_eq!(attempts.allow(grace), Ok(()), "another client is not held back");
    }

    #[test]
    fn ipv6_clients_count_by_network_and_success_forgets() {
        let attempts = SignInAttempts::default();
        for i in 0..MAX_FAILURES {
            attempts.failed(format!("2001:db8:1:2::{i:x}").parse().ok());
        }
        assert!(attempts.allow("2001:db8:1:2::ffff".parse().ok()).is_err());
        assert_eq!(attempts.allow("2001:db8:1:3::1".parse().ok()), Ok(()));
        attempts.succeeded("2001:db8:1:2::1".parse().ok());
        assert_eq!(attempts.allow("2001:db8:1:2::ffff".parse().ok()), Ok(()));
    }
}

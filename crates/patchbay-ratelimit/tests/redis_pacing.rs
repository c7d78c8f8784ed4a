//! `RedisPaceStore` against a real Redis: the GCRA script (burst, steady
//! rate, independent keys, expiring keys), two pacers sharing one pace, and
//! outages (a closed port, a Redis that never answers, a connection cut and
//! restored) that degrade to in-process pacing with one warning and recover.
//!
//! Redis is `PATCHBAY_TEST_REDIS_URL`, default `redis://127.0.0.1:6379`;
//! without it the tests are reported ignored, or fail when `CI=true`
//! (docs/testing.md). Each test uses a key prefix of its own.

use std::io::Write;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use patchbay_ratelimit::{PaceConfig, PaceStore, Pacer, RedisPaceStore};
use patchbay_testkit::{Requirement, Runtime, tokio_test};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

const DEFAULT_URL: &str = "redis://127.0.0.1:6379";

fn url() -> String {
    std::env::var("PATCHBAY_TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_URL.into())
}

/// A Redis that answers `PING` at [`url`].
static REDIS: Requirement = Requirement::new("Redis", || {
    let url = url();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let ping = async {
            let client = redis::Client::open(url.as_str())?;
            let mut conn = client.get_multiplexed_async_connection().await?;
            redis::cmd("PING").query_async::<String>(&mut conn).await
        };
        match tokio::time::timeout(Duration::from_secs(2), ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!(
                "Redis at {url} is unreachable ({e}); start it with `redis-server --daemonize yes` \
                 or point PATCHBAY_TEST_REDIS_URL at another server"
            )),
            Err(_) => Err(format!("Redis at {url} did not answer PING within 2 s")),
        }
    })
});

fn main() -> std::process::ExitCode {
    use Runtime::{CurrentThread, MultiThread};
    patchbay_testkit::run(vec![
        tokio_test(
            "the_script_allows_the_burst_then_one_per_interval",
            CurrentThread,
            the_script_allows_the_burst_then_one_per_interval,
        )
        .needs(&REDIS),
        tokio_test(
            "a_pacer_on_redis_keeps_the_steady_rate",
            CurrentThread,
            a_pacer_on_redis_keeps_the_steady_rate,
        )
        .needs(&REDIS),
        tokio_test(
            "two_keys_are_paced_independently",
            CurrentThread,
            two_keys_are_paced_independently,
        )
        .needs(&REDIS),
        tokio_test(
            "keys_expire_once_back_at_full_burst",
            CurrentThread,
            keys_expire_once_back_at_full_burst,
        )
        .needs(&REDIS),
        tokio_test(
            "two_pacers_on_one_redis_share_the_pace",
            MultiThread(2),
            two_pacers_on_one_redis_share_the_pace,
        )
        .needs(&REDIS),
        // These two need no Redis: nothing answers them.
        tokio_test(
            "a_closed_port_paces_in_process_with_one_warning",
            CurrentThread,
            a_closed_port_paces_in_process_with_one_warning,
        ),
        tokio_test(
            "a_redis_that_never_answers_costs_one_timeout_then_nothing",
            CurrentThread,
            a_redis_that_never_answers_costs_one_timeout_then_nothing,
        ),
        tokio_test(
            "a_cut_connection_falls_back_then_redis_is_used_again",
            CurrentThread,
            a_cut_connection_falls_back_then_redis_is_used_again,
        )
        .needs(&REDIS),
    ])
}

// ---------------------------------------------------------------- helpers

fn pace(requests: u32, per: Duration, burst: u32) -> PaceConfig {
    PaceConfig {
        requests: NonZeroU32::new(requests).unwrap(),
        per,
        burst: NonZeroU32::new(burst).unwrap(),
    }
}

/// A key prefix no other test (or run) uses.
fn prefix() -> String {
    format!("patchbay-test:{}:", uuid::Uuid::new_v4().simple())
}

fn store_at(url: &str, prefix: &str) -> RedisPaceStore {
    RedisPaceStore::new(url).unwrap().with_key_prefix(prefix)
}

async fn redis_conn() -> redis::aio::MultiplexedConnection {
    redis::Client::open(url().as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .expect("Redis")
}

/// A log capture: everything `tracing` logs on this thread while the guard lives.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let logs = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || logs.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    fn warnings(&self) -> usize {
        self.text().lines().filter(|l| l.contains("WARN")).count()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A port nothing listens on.
async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// A TCP proxy to the test Redis on a fixed port, which can be cut (the
/// listener closed and every connection dropped) and started again.
struct Proxy {
    addr: SocketAddr,
    tasks: JoinSet<()>,
}

impl Proxy {
    async fn start(addr: SocketAddr) -> Self {
        let listener = TcpListener::bind(addr).await.expect("bind the proxy");
        let addr = listener.local_addr().unwrap();
        let upstream: SocketAddr = {
            let info = url();
            let host = info
                .trim_start_matches("redis://")
                .split('/')
                .next()
                .unwrap()
                .to_owned();
            tokio::net::lookup_host(host).await.unwrap().next().unwrap()
        };
        let mut tasks = JoinSet::new();
        tasks.spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                connections.spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Self { addr, tasks }
    }

    /// Closes the listener and every connection through it.
    async fn cut(mut self) -> SocketAddr {
        self.tasks.shutdown().await;
        self.addr
    }
}

// ---------------------------------------------------------------- the script

async fn the_script_allows_the_burst_then_one_per_interval() {
    let store = store_at(&url(), &prefix());
    let pace = pace(10, Duration::from_secs(1), 3);
    for i in 0..3 {
        assert_eq!(
            store.try_take("acct", &pace).await.unwrap(),
            Duration::ZERO,
            "burst slot {i}"
        );
    }
    let wait = store.try_take("acct", &pace).await.unwrap();
    assert!(
        wait > Duration::from_millis(50) && wait <= Duration::from_millis(100),
        "the fourth waits for the next 100 ms slot: {wait:?}"
    );
    // Refused asks take nothing: the wait only shrinks.
    let again = store.try_take("acct", &pace).await.unwrap();
    assert!(again <= wait, "{again:?} after {wait:?}");
    tokio::time::sleep(again).await;
    assert_eq!(store.try_take("acct", &pace).await.unwrap(), Duration::ZERO);
    assert_eq!(store.fallbacks(), 0);
}

async fn a_pacer_on_redis_keeps_the_steady_rate() {
    let store = Arc::new(store_at(&url(), &prefix()));
    // 2 back to back, then one per 50 ms: 22 acquires take 20 intervals = 1 s.
    let pacer =
        Pacer::<String>::new(Some(pace(20, Duration::from_secs(1), 2))).with_store(store.clone());
    let cancel = CancellationToken::new();
    let start = Instant::now();
    for _ in 0..22 {
        pacer.acquire(&"acct".to_owned(), &cancel).await.unwrap();
    }
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(980) && elapsed < Duration::from_millis(1500),
        "{elapsed:?}"
    );
    assert_eq!(store.fallbacks(), 0);
}

async fn two_keys_are_paced_independently() {
    let store = store_at(&url(), &prefix());
    let pace = pace(1, Duration::from_secs(10), 1);
    assert_eq!(store.try_take("a", &pace).await.unwrap(), Duration::ZERO);
    assert!(store.try_take("a", &pace).await.unwrap() > Duration::from_secs(9));
    assert_eq!(store.try_take("b", &pace).await.unwrap(), Duration::ZERO);
    assert!(store.try_take("b", &pace).await.unwrap() > Duration::from_secs(9));
    // Another prefix is another pace.
    let other = store_at(&url(), &prefix());
    assert_eq!(other.try_take("a", &pace).await.unwrap(), Duration::ZERO);
}

async fn keys_expire_once_back_at_full_burst() {
    let prefix = prefix();
    let store = store_at(&url(), &prefix);
    let mut conn = redis_conn().await;
    let key = format!("{prefix}acct");
    // 3 slots of a 100 ms interval: full burst again 300 ms later.
    let pace = pace(10, Duration::from_secs(1), 3);
    for _ in 0..3 {
        assert_eq!(store.try_take("acct", &pace).await.unwrap(), Duration::ZERO);
    }
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl > 200 && ttl <= 301, "PTTL {ttl}");
    tokio::time::sleep(Duration::from_millis(350)).await;
    let exists: i64 = redis::cmd("EXISTS")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(exists, 0, "the key expired with its pace");
    // A missing key is a full burst.
    for _ in 0..3 {
        assert_eq!(store.try_take("acct", &pace).await.unwrap(), Duration::ZERO);
    }
}

async fn two_pacers_on_one_redis_share_the_pace() {
    let prefix = prefix();
    let pace = pace(20, Duration::from_secs(1), 1);
    // Two pacers, each with a store (and connection) of its own, as two processes have.
    let pacers: Vec<Arc<Pacer<String>>> = (0..2)
        .map(|_| Arc::new(Pacer::new(Some(pace)).with_store(Arc::new(store_at(&url(), &prefix)))))
        .collect();
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    for pacer in &pacers {
        for _ in 0..4 {
            let pacer = pacer.clone();
            tasks.spawn(async move {
                let cancel = CancellationToken::new();
                let mut at = Vec::new();
                for _ in 0..5 {
                    pacer.acquire(&"acct".to_owned(), &cancel).await.unwrap();
                    at.push(start.elapsed());
                }
                at
            });
        }
    }
    let mut times: Vec<Duration> = tasks.join_all().await.into_iter().flatten().collect();
    times.sort();
    // 40 slots of one shared 50 ms interval: the last at 39 intervals; in-process
    // pacing alone would let each pacer take 20 in 19 intervals.
    let last = *times.last().unwrap();
    assert!(last >= Duration::from_millis(1900), "last slot at {last:?}");
    let first_second = times
        .iter()
        .filter(|t| **t < Duration::from_secs(1))
        .count();
    assert!(
        first_second <= 21,
        "{first_second} slots in the first second: {times:?}"
    );
}

// ---------------------------------------------------------------- outages

async fn a_closed_port_paces_in_process_with_one_warning() {
    let logs = Logs::default();
    let _guard = logs.install();
    let addr = closed_port().await;
    let store = Arc::new(
        RedisPaceStore::new(&format!("redis://:hunter2@{addr}"))
            .unwrap()
            .with_key_prefix(prefix()),
    );
    let pacer =
        Pacer::<String>::new(Some(pace(10, Duration::from_secs(1), 1))).with_store(store.clone());
    let cancel = CancellationToken::new();
    let start = Instant::now();
    for _ in 0..11 {
        pacer.acquire(&"acct".to_owned(), &cancel).await.unwrap();
    }
    let elapsed = start.elapsed();
    // Paced in-process: 10 intervals of 100 ms, plus the first failed connect.
    assert!(
        elapsed >= Duration::from_millis(990) && elapsed < Duration::from_millis(1600),
        "{elapsed:?}"
    );
    // Every ask (one or two per acquire: a paced one asks again after its wait).
    assert!(store.fallbacks() >= 11, "{}", store.fallbacks());
    let text = logs.text();
    assert_eq!(logs.warnings(), 1, "one warning, no storm:\n{text}");
    assert!(
        text.contains("Redis is unavailable for shared pacing"),
        "{text}"
    );
    assert!(
        !text.contains("hunter2"),
        "the URL's password is never logged:\n{text}"
    );
    assert!(!format!("{store:?}").contains("hunter2"));
}

async fn a_redis_that_never_answers_costs_one_timeout_then_nothing() {
    // Accepts connections and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let store = Arc::new(
        RedisPaceStore::new(&format!("redis://{addr}"))
            .unwrap()
            .with_timeout(Duration::from_millis(100)),
    );
    let pacer =
        Pacer::<String>::new(Some(pace(100, Duration::from_secs(1), 5))).with_store(store.clone());
    let cancel = CancellationToken::new();
    let start = Instant::now();
    pacer.acquire(&"acct".to_owned(), &cancel).await.unwrap();
    let first = start.elapsed();
    assert!(
        first >= Duration::from_millis(100) && first < Duration::from_millis(400),
        "the first acquire waits out the timeout: {first:?}"
    );
    let start = Instant::now();
    for _ in 0..4 {
        pacer.acquire(&"acct".to_owned(), &cancel).await.unwrap();
    }
    assert!(
        start.elapsed() < Duration::from_millis(50),
        "the next ones do not ask the dead Redis: {:?}",
        start.elapsed()
    );
    assert!(store.fallbacks() >= 5, "{}", store.fallbacks());
    held.abort();
}

async fn a_cut_connection_falls_back_then_redis_is_used_again() {
    let logs = Logs::default();
    let _guard = logs.install();
    let proxy = Proxy::start("127.0.0.1:0".parse().unwrap()).await;
    let prefix = prefix();
    let store = Arc::new(store_at(&format!("redis://{}", proxy.addr), &prefix));
    let pace = pace(50, Duration::from_secs(1), 1);
    let pacer = Pacer::<String>::new(Some(pace)).with_store(store.clone());
    let cancel = CancellationToken::new();
    let mut conn = redis_conn().await;
    let exists = |conn: &mut redis::aio::MultiplexedConnection, key: String| {
        let mut conn = conn.clone();
        async move {
            redis::cmd("EXISTS")
                .arg(key)
                .query_async::<i64>(&mut conn)
                .await
                .unwrap()
        }
    };

    pacer.acquire(&"before".to_owned(), &cancel).await.unwrap();
    assert_eq!(exists(&mut conn, format!("{prefix}before")).await, 1);
    assert_eq!(store.fallbacks(), 0);

    let addr = proxy.cut().await;
    let start = Instant::now();
    for _ in 0..10 {
        pacer.acquire(&"during".to_owned(), &cancel).await.unwrap();
    }
    assert!(
        start.elapsed() >= Duration::from_millis(170),
        "paced in-process meanwhile: {:?}",
        start.elapsed()
    );
    let during = store.fallbacks();
    assert!(during >= 10, "{during} fallbacks");
    assert_eq!(exists(&mut conn, format!("{prefix}during")).await, 0);
    assert_eq!(logs.warnings(), 1, "{}", logs.text());

    // Redis is reachable again; the store asks it again a second after its last failure.
    let _proxy = Proxy::start(addr).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        pacer.acquire(&"after".to_owned(), &cancel).await.unwrap();
        if exists(&mut conn, format!("{prefix}after")).await == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Redis is not used again:\n{}",
            logs.text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = store.fallbacks();
    for _ in 0..5 {
        pacer.acquire(&"after".to_owned(), &cancel).await.unwrap();
    }
    assert_eq!(
        store.fallbacks(),
        after,
        "no more fallbacks once Redis answers"
    );
    assert!(
        logs.text().contains("Redis answers again"),
        "{}",
        logs.text()
    );
}

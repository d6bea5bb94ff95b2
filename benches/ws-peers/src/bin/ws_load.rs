//! The load client for benches/ws_compare.sh (tokio-tungstenite).
//!
//! `ws_load URL SIZE CONNECTIONS SECONDS [THREADS]`, e.g.
//! `ws_load ws://127.0.0.1:8000/ws 16384 16 5`.
//!
//! Opens CONNECTIONS WebSockets to URL (all of them before the clock starts), then each
//! connection, in a loop until SECONDS have passed, sends one binary message of SIZE bytes
//! and waits for its echo (one message in flight per connection; a message may come back in
//! several frames, tungstenite reassembles it), reading while it sends: an echo that streams
//! the message through (ours) answers before the message has all been sent. Every echo is compared byte for byte with
//! what was sent; the payload differs from one round trip to the next, so a stale or
//! misordered echo is caught too. Each wait is bounded (10 s), so the run is bounded by
//! SECONDS + 10 s + the closing handshake (bounded by 2 s).
//!
//! Runtime: tokio's current-thread runtime by default (THREADS = 1): on the 2-core bench
//! machine the client gets one core and the server (also current-thread) the other. THREADS
//! > 1 uses the multi-thread runtime with that many workers.
//!
//! Prints one human line and one `key=value` line (for the script):
//! round trips/s, MB/s = echoed payload bytes per second in ONE direction (10^6 bytes; the
//! bytes on the wire are twice that plus frame headers), mean and p99 round-trip latency,
//! and the client's CPU use (% of one core). Exits 1 on any mismatch or error, or if no
//! round trip completed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tokio_tungstenite::WebSocketStream;

/// How long one echo may take before the run fails.
const ECHO_TIMEOUT: Duration = Duration::from_secs(10);
/// Latency samples kept per connection (enough for far more than a 5 s run).
const MAX_SAMPLES: usize = 4_000_000;

struct Args {
    url: String,
    size: usize,
    connections: usize,
    seconds: f64,
    threads: usize,
}

fn usage() -> ! {
    eprintln!("usage: ws_load URL SIZE CONNECTIONS SECONDS [THREADS]");
    std::process::exit(2)
}

fn parse() -> Args {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 || args.len() > 5 {
        usage()
    }
    let number = |s: &str| s.parse::<usize>().unwrap_or_else(|_| usage());
    let args = Args {
        url: args[0].clone(),
        size: number(&args[1]),
        connections: number(&args[2]),
        seconds: args[3].parse().unwrap_or_else(|_| usage()),
        threads: args.get(4).map_or(1, |t| number(t)),
    };
    // Bounded on purpose: this is a loopback bench, not a soak.
    if args.connections == 0
        || args.connections > 1024
        || !(args.seconds > 0.0 && args.seconds <= 600.0)
        || args.threads == 0
        || args.size > 16 << 20
    {
        usage()
    }
    args
}

/// `host:port` of `ws://host:port/path`.
fn authority(url: &str) -> &str {
    let rest = url.strip_prefix("ws://").unwrap_or_else(|| {
        eprintln!("only ws:// URLs");
        std::process::exit(2)
    });
    rest.split('/').next().unwrap_or(rest)
}

/// User plus system CPU time of this process, from /proc (0 where there is none).
fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the command name (which is in parentheses and may hold spaces).
    let Some(after) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat, 12 and 13 here; in clock ticks (100/s
    // on Linux).
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    Duration::from_millis(ticks * 10)
}

#[derive(Default)]
struct Totals {
    round_trips: AtomicU64,
    mismatches: AtomicU64,
    errors: AtomicU64,
}

type Ws = WebSocketStream<TcpStream>;

async fn open(url: &str, size: usize) -> Result<Ws, String> {
    let tcp = TcpStream::connect(authority(url))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    tcp.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;
    let limit = size.max(1 << 16) * 2;
    let config = WebSocketConfig::default()
        .max_message_size(Some(limit))
        .max_frame_size(Some(limit));
    let (ws, response) = tokio_tungstenite::client_async_with_config(url, tcp, Some(config))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    if response.status().as_u16() != 101 {
        return Err(format!("handshake: status {}", response.status()));
    }
    Ok(ws)
}

/// One connection's loop; returns its round-trip latencies in microseconds and when its last
/// round trip ended.
async fn run(
    ws: Ws,
    id: usize,
    size: usize,
    deadline: Instant,
    totals: Arc<Totals>,
) -> (Vec<u32>, Instant) {
    // A pattern longer than a message by 251 bytes (a prime): round trip n sends the slice
    // at offset n % 251, so consecutive payloads differ.
    let pattern: Vec<u8> = (0..size + 251)
        .map(|i| (i.wrapping_mul(31).wrapping_add(id * 7)) as u8)
        .collect();
    let (mut sink, mut stream) = ws.split();
    let mut samples = Vec::with_capacity(1 << 16);
    let mut n: usize = 0;
    let mut last_end = Instant::now();
    'trips: while Instant::now() < deadline {
        let offset = n % 251;
        let sent = &pattern[offset..offset + size];
        let started = Instant::now();
        // Send and receive at once: a server that echoes as the message arrives (ours) sends
        // its echo while this client is still sending, and a message larger than the
        // sockets' buffers would block both ends if the client read only after sending.
        let send = sink.send(Message::Binary(Bytes::copy_from_slice(sent)));
        let receive = async {
            loop {
                let received = match tokio::time::timeout(ECHO_TIMEOUT, stream.next()).await {
                    Ok(Some(Ok(message))) => message,
                    Ok(Some(Err(e))) => return Err(format!("connection {id}: {e}")),
                    Ok(None) => return Err(format!("connection {id}: closed by the server")),
                    Err(_) => {
                        return Err(format!("connection {id}: no echo within {ECHO_TIMEOUT:?}"))
                    }
                };
                match received {
                    Message::Binary(data) => return Ok(data[..] == *sent),
                    Message::Ping(_) | Message::Pong(_) => continue,
                    // Text, close or a raw frame instead of the binary echo.
                    _ => return Ok(false),
                }
            }
        };
        let (sent_result, received) = tokio::join!(send, receive);
        if sent_result.is_err() {
            totals.errors.fetch_add(1, Ordering::Relaxed);
            break 'trips;
        }
        match received {
            Ok(true) => {}
            Ok(false) => {
                totals.mismatches.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                eprintln!("{e}");
                totals.errors.fetch_add(1, Ordering::Relaxed);
                break 'trips;
            }
        }
        last_end = Instant::now();
        let micros = last_end
            .duration_since(started)
            .as_micros()
            .min(u32::MAX as u128) as u32;
        if samples.len() < MAX_SAMPLES {
            samples.push(micros);
        }
        totals.round_trips.fetch_add(1, Ordering::Relaxed);
        n += 1;
    }
    // A clean closing handshake, bounded.
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = sink.close().await;
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
    (samples, last_end)
}

async fn bench(args: Args) -> i32 {
    let mut sockets = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        match open(&args.url, args.size).await {
            Ok(ws) => sockets.push(ws),
            Err(e) => {
                eprintln!("{}: {e}", args.url);
                return 1;
            }
        }
    }
    let totals = Arc::new(Totals::default());
    let cpu_before = cpu_time();
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(args.seconds);
    let tasks: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(id, ws)| tokio::spawn(run(ws, id, args.size, deadline, Arc::clone(&totals))))
        .collect();
    let mut samples = Vec::new();
    let mut finished = start;
    for task in tasks {
        match task.await {
            Ok((latencies, last_end)) => {
                samples.extend(latencies);
                finished = finished.max(last_end);
            }
            Err(_) => {
                totals.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    // The measured span: from the common start to the end of the last round trip (the one
    // that began before the deadline); the closing handshakes are not counted.
    let elapsed = finished.duration_since(start).as_secs_f64();
    let cpu = (cpu_time().saturating_sub(cpu_before)).as_secs_f64() / elapsed * 100.0;
    let trips = totals.round_trips.load(Ordering::Relaxed);
    let mismatches = totals.mismatches.load(Ordering::Relaxed);
    let errors = totals.errors.load(Ordering::Relaxed);
    samples.sort_unstable();
    let mean = if samples.is_empty() {
        0.0
    } else {
        samples.iter().map(|&s| s as f64).sum::<f64>() / samples.len() as f64
    };
    let p99 = samples
        .get((samples.len() * 99 / 100).min(samples.len().saturating_sub(1)))
        .copied()
        .unwrap_or(0);
    let rate = trips as f64 / elapsed;
    let mbps = rate * args.size as f64 / 1e6;
    println!(
        "{} x {} B over {} connection(s), {:.2} s: {:.0} round trips/s, {:.2} MB/s payload \
         (one direction), latency mean {:.0} us p99 {} us, client CPU {:.0}%, \
         {} mismatches, {} errors",
        trips, args.size, args.connections, elapsed, rate, mbps, mean, p99, cpu, mismatches, errors
    );
    println!(
        "RESULT round_trips={trips} seconds={elapsed:.3} rt_per_s={rate:.1} mb_per_s={mbps:.3} \
         mean_us={mean:.1} p99_us={p99} client_cpu={cpu:.0} mismatches={mismatches} \
         errors={errors}"
    );
    if mismatches > 0 || errors > 0 || trips == 0 {
        1
    } else {
        0
    }
}

fn main() {
    let args = parse();
    let runtime = if args.threads == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(args.threads);
        builder
    }
    .enable_all()
    .build()
    .expect("runtime");
    let code = runtime.block_on(bench(args));
    std::process::exit(code);
}

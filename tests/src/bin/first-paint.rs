//! `first-paint [--idle SECS] -- PROGRAM [ARGS...]`: start PROGRAM on the X display, report
//! how long until the screen first shows a painted window (more than 20 colours; a bare window
//! background is one), then, after SECS idle (default 5), the resident memory of PROGRAM and
//! every process it started, and stop it. Used by `.ci/bench-app`.
//!
//! It polls the X server directly every 10 ms (one GetImage, a few ms of CPU), so the
//! measurement steals little time from the two cores the program starts on.

use std::collections::HashMap;
use std::fs;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tessera_e2e::grab_screen;

const PAINTED_COLOURS: usize = 20;
const GIVE_UP: Duration = Duration::from_secs(20);

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut idle = 5u64;
    if args.first().map(String::as_str) == Some("--idle") {
        idle = args
            .get(1)
            .and_then(|s| s.parse().ok())
            .ok_or("--idle needs a number of seconds")?;
        args.drain(..2);
    }
    if args.first().map(String::as_str) == Some("--") {
        args.remove(0);
    }
    let (program, rest) = args
        .split_first()
        .ok_or("usage: first-paint [--idle SECS] -- PROGRAM [ARGS...]")?;

    let blank = grab_screen()?.colours_up_to(PAINTED_COLOURS);
    if blank > PAINTED_COLOURS {
        return Err(format!(
            "the screen already shows {blank} colours before the start"
        ));
    }
    let start = Instant::now();
    let mut child = Command::new(program)
        .args(rest)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("{program}: {e}"))?;
    let mut painted = None;
    while start.elapsed() < GIVE_UP {
        if grab_screen()?.colours_up_to(PAINTED_COLOURS) > PAINTED_COLOURS {
            painted = Some(start.elapsed());
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("{program} exited before painting: {status}"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    match painted {
        Some(d) => println!("first_paint_ms {}", d.as_millis()),
        None => println!("first_paint_ms none"),
    }

    std::thread::sleep(Duration::from_secs(idle));
    let root = child.id() as i32;
    let (mut rss, mut pss) = (0u64, 0u64);
    for pid in std::iter::once(root).chain(descendants(root)) {
        let name = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        // PSS divides each shared page among the processes mapping it, so summing it does
        // not count the libraries every WebKit process loads three times; RSS does.
        let rollup = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
        let field = |key: &str| -> u64 {
            rollup
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        let (r, p) = (field("Rss:"), field("Pss:"));
        println!(
            "process {} rss_mb {} pss_mb {}",
            name.trim(),
            r / 1024,
            p / 1024
        );
        rss += r;
        pss += p;
    }
    println!("total rss_mb {} pss_mb {}", rss / 1024, pss / 1024);

    let _ = kill(Pid::from_raw(root), Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    Ok(())
}

/// Every process below `root`, from /proc's parent links.
fn descendants(root: i32) -> Vec<i32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    if let Ok(dir) = fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // The parent is the second field after the parenthesised command name.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<i32>().ok());
            if let Some(ppid) = ppid {
                children.entry(ppid).or_default().push(pid);
            }
        }
    }
    let mut out = Vec::new();
    let mut queue = vec![root];
    while let Some(p) = queue.pop() {
        for &c in children.get(&p).into_iter().flatten() {
            out.push(c);
            queue.push(c);
        }
    }
    out
}

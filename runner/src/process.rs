//! What the operating system knows about this process: peak resident memory (for ledger
//! records) and CPU time (for the CPU utilisation of `edp run`). Linux `/proc`; other systems
//! report `None`.

use std::time::Duration;

/// Clock ticks per second of `/proc/<pid>/stat` times. The kernel reports these in `USER_HZ`,
/// which is 100 on every Linux architecture edp runs on (it is part of the user-space ABI,
/// independent of the kernel's internal `HZ`).
const USER_HZ: f64 = 100.0;

/// Peak resident set size of this process so far (`VmHWM` of `/proc/self/status`), in bytes.
pub fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_hwm(&status)
}

/// `VmHWM:   123456 kB` -> bytes.
fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let mut parts = line.split_whitespace().skip(1);
    let value: u64 = parts.next()?.parse().ok()?;
    match parts.next() {
        Some("kB") | None => Some(value * 1024),
        Some(_) => None,
    }
}

/// User and system CPU time consumed by this process (all threads) so far.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CpuTimes {
    /// Time in user mode.
    pub user: Duration,
    /// Time in kernel mode.
    pub system: Duration,
}

impl CpuTimes {
    /// The times of this process, from `/proc/self/stat` (fields 14 `utime` and 15 `stime`).
    pub fn now() -> Option<CpuTimes> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        parse_stat(&stat)
    }

    /// User + system.
    pub fn total(&self) -> Duration {
        self.user + self.system
    }

    /// The times spent since `earlier`.
    pub fn since(&self, earlier: &CpuTimes) -> CpuTimes {
        CpuTimes {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
        }
    }
}

/// Parses `/proc/<pid>/stat`. The command name (field 2) is in parentheses and may contain
/// blanks and parentheses, so fields are counted after the last `)`.
fn parse_stat(stat: &str) -> Option<CpuTimes> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    // After the name: field 3 (state) is index 0, so utime (14) is index 11, stime index 12.
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| -> Option<Duration> {
        let t: u64 = fields.get(i)?.parse().ok()?;
        Some(Duration::from_secs_f64(t as f64 / USER_HZ))
    };
    Some(CpuTimes {
        user: ticks(11)?,
        system: ticks(12)?,
    })
}

/// Number of cores this process may use.
pub fn available_cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// The memory limit of this process's control group in bytes (`memory.max` of cgroup v2, else
/// `memory.limit_in_bytes` of cgroup v1), or `None` when there is none (no limit, no cgroup
/// file, or a v1 "unlimited" value beyond 2^60). A container of AWS Batch or ECS has one.
pub fn container_memory_limit_bytes() -> Option<u64> {
    let v2 = std::fs::read_to_string("/sys/fs/cgroup/memory.max").ok();
    let v1 = || std::fs::read_to_string("/sys/fs/cgroup/memory/memory.limit_in_bytes").ok();
    v2.or_else(v1).as_deref().and_then(parse_memory_limit)
}

/// `memory.max` / `memory.limit_in_bytes` content -> bytes (`max` and v1's page-rounded
/// `i64::MAX` mean no limit).
fn parse_memory_limit(text: &str) -> Option<u64> {
    let value: u64 = text.trim().parse().ok()?;
    (value < 1 << 60).then_some(value)
}

/// CPU utilisation: CPU time / (wall time x cores), 0..1 (0 when the wall time is zero).
pub fn cpu_utilisation(cpu: Duration, wall: Duration, cores: usize) -> f64 {
    let capacity = wall.as_secs_f64() * cores.max(1) as f64;
    if capacity > 0.0 {
        cpu.as_secs_f64() / capacity
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_hwm_is_read_in_bytes() {
        let status = "Name:\tedp\nVmPeak:\t  2000 kB\nVmHWM:\t   1536 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(1536 * 1024));
        assert_eq!(parse_vm_hwm("Name: x\n"), None);
    }

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        // A command name with blanks and a parenthesis; utime = 250 ticks, stime = 50.
        let stat = "1234 (my (odd) cmd) R 1 1234 1234 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 9";
        let times = parse_stat(stat).unwrap();
        assert_eq!(times.user, Duration::from_millis(2500));
        assert_eq!(times.system, Duration::from_millis(500));
        assert_eq!(times.total(), Duration::from_secs(3));
    }

    #[test]
    fn this_process_has_cpu_time_and_memory_on_linux() {
        if !std::path::Path::new("/proc/self/stat").exists() {
            eprintln!("SKIPPED: no /proc on this system");
            return;
        }
        let before = CpuTimes::now().unwrap();
        // Burn a little CPU so that the clock advances by at least one tick.
        let mut x = 0u64;
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_millis(60) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        let after = CpuTimes::now().unwrap();
        assert!(after.since(&before).total() > Duration::ZERO);
        assert!(peak_memory_bytes().unwrap() > 1024 * 1024);
    }

    #[test]
    fn memory_limits_of_both_cgroup_versions_are_read() {
        assert_eq!(parse_memory_limit("2147483648\n"), Some(2 << 30));
        assert_eq!(parse_memory_limit("max\n"), None);
        assert_eq!(parse_memory_limit("9223372036854771712\n"), None);
        assert_eq!(parse_memory_limit(""), None);
    }

    #[test]
    fn utilisation_is_cpu_over_capacity() {
        let u = cpu_utilisation(Duration::from_secs(3), Duration::from_secs(2), 2);
        assert!((u - 0.75).abs() < 1e-12);
        assert_eq!(
            cpu_utilisation(Duration::from_secs(1), Duration::ZERO, 4),
            0.0
        );
    }
}

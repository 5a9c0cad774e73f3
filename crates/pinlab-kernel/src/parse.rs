//! Parsing what the kernel reports: `/proc/vmstat`, `uname -r`, `statfs`
//! magic numbers, errno names.

/// The two FOLL_PIN counters of `/proc/vmstat` (node counters
/// `NR_FOLL_PIN_ACQUIRED` / `NR_FOLL_PIN_RELEASED`, mm/gup.c).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinCounters {
    pub acquired: u64,
    pub released: u64,
}

/// The pin counters in the text of `/proc/vmstat`, if both are present.
pub fn vmstat_pins(text: &str) -> Option<PinCounters> {
    let mut acquired = None;
    let mut released = None;
    for line in text.lines() {
        let mut it = line.split_ascii_whitespace();
        let (Some(k), Some(v)) = (it.next(), it.next()) else { continue };
        match k {
            "nr_foll_pin_acquired" => acquired = v.parse().ok(),
            "nr_foll_pin_released" => released = v.parse().ok(),
            _ => {}
        }
    }
    Some(PinCounters { acquired: acquired?, released: released? })
}

/// `6.18.44-fc-v669` → (6, 18).
pub fn kernel_major_minor(release: &str) -> Option<(u32, u32)> {
    let mut it = release.split(|c: char| !c.is_ascii_digit());
    let major = it.next()?.parse().ok()?;
    let minor = it.next()?.parse().ok()?;
    Some((major, minor))
}

/// The name of a file-system magic number (`statfs.f_type`, linux/magic.h).
pub fn fs_name(magic: u64) -> &'static str {
    match magic {
        0xEF53 => "ext4",
        0x0102_1994 => "tmpfs",
        0x5846_5342 => "xfs",
        0x9123_683E => "btrfs",
        0x794C_7630 => "overlayfs",
        0x6969 => "nfs",
        0x6573_5546 => "fuse",
        0x2FC1_2FC1 => "zfs",
        0xF2F5_2010 => "f2fs",
        0x0102_1997 => "9p",
        _ => "unknown",
    }
}

/// The symbolic name of an errno value (the ones a probe can meet).
pub fn errno_name(code: i32) -> String {
    let n = match code {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EIO => "EIO",
        libc::ENXIO => "ENXIO",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::ENOSYS => "ENOSYS",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EOVERFLOW => "EOVERFLOW",
        libc::EMLINK => "EMLINK",
        _ => return format!("errno {code}"),
    };
    n.to_string()
}

/// The errno name of an I/O error.
pub fn io_errno(e: &std::io::Error) -> String {
    e.raw_os_error().map_or_else(|| e.to_string(), errno_name)
}

/// `AnonHugePages` (KiB) of the VMA containing `addr` in the text of
/// `/proc/self/smaps`.
pub fn smaps_anon_huge_kb(text: &str, addr: u64) -> Option<u64> {
    let mut inside = false;
    for line in text.lines() {
        let first = line.split_ascii_whitespace().next().unwrap_or("");
        if let Some((a, b)) = first.split_once('-') {
            if let (Ok(a), Ok(b)) = (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16)) {
                inside = (a..b).contains(&addr);
                continue;
            }
        }
        if inside {
            if let Some(v) = line.strip_prefix("AnonHugePages:") {
                return v.trim().trim_end_matches("kB").trim().parse().ok();
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vmstat_counters_parse() {
        let text = "nr_free_pages 123\nnr_foll_pin_acquired 4711\nnr_foll_pin_released 4700\npgfault 9\n";
        assert_eq!(vmstat_pins(text), Some(PinCounters { acquired: 4711, released: 4700 }));
    }

    #[test]
    fn vmstat_without_counters_is_none() {
        assert_eq!(vmstat_pins("nr_free_pages 1\nnr_foll_pin_acquired 3\n"), None);
        assert_eq!(vmstat_pins(""), None);
        assert_eq!(vmstat_pins("nr_foll_pin_acquired x\nnr_foll_pin_released 1\n"), None);
    }

    #[test]
    fn release_parses() {
        assert_eq!(kernel_major_minor("6.18.44-fc-v669"), Some((6, 18)));
        assert_eq!(kernel_major_minor("5.4.0-150-generic"), Some((5, 4)));
        assert_eq!(kernel_major_minor("6.5"), Some((6, 5)));
        assert_eq!(kernel_major_minor("garbage"), None);
    }

    #[test]
    fn smaps_anon_huge() {
        let text = "7f0000000000-7f0000200000 rw-p 00000000 00:00 0\nSize:               2048 kB\nAnonHugePages:         0 kB\n\
                    7f0000400000-7f0000800000 rw-p 00000000 00:00 0\nRss:             4096 kB\nAnonHugePages:      4096 kB\n";
        assert_eq!(smaps_anon_huge_kb(text, 0x7f00_0040_1000), Some(4096));
        assert_eq!(smaps_anon_huge_kb(text, 0x7f00_0000_0000), Some(0));
        assert_eq!(smaps_anon_huge_kb(text, 0x7f00_0030_0000), None);
    }

    #[test]
    fn names() {
        assert_eq!(fs_name(0xEF53), "ext4");
        assert_eq!(fs_name(0x0102_1994), "tmpfs");
        assert_eq!(fs_name(1), "unknown");
        assert_eq!(errno_name(libc::EFAULT), "EFAULT");
        assert_eq!(errno_name(libc::EOPNOTSUPP), "EOPNOTSUPP");
        assert_eq!(errno_name(9999), "errno 9999");
    }
}

//! Fargate task sizes: what users ask for (vCPU, memory with units) rounded up to a size Fargate
//! accepts. Fargate only runs fixed CPU/memory pairs; rounding up (never down) means a service
//! always gets at least what was asked for.
//!
//! The same pairs apply to Linux/ARM64 (Graviton) tasks as to x86_64, so the platform does not
//! enter here.

use std::fmt;

/// Default vCPU when `cpus` is not set.
pub const DEFAULT_CPUS: f64 = 0.25;

/// 1 vCPU in ECS CPU units.
const UNITS_PER_VCPU: f64 = 1024.0;
const MAX_VCPUS: f64 = 16.0;
/// 120 GiB, the largest Fargate task.
const MAX_MEMORY_MIB: u32 = 120 * 1024;

/// Valid memory sizes (MiB) for each CPU size (units), smallest first.
/// <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size>
const FARGATE_SIZES: &[(u32, MemoryRange)] = &[
    (256, MemoryRange::List(&[512, 1024, 2048])),
    (512, MemoryRange::Step(1024, 4096, 1024)),
    (1024, MemoryRange::Step(2048, 8192, 1024)),
    (2048, MemoryRange::Step(4096, 16384, 1024)),
    (4096, MemoryRange::Step(8192, 30720, 1024)),
    (8192, MemoryRange::Step(16384, 61440, 4096)),
    (16384, MemoryRange::Step(32768, 122880, 8192)),
];

enum MemoryRange {
    List(&'static [u32]),
    /// From, to (inclusive), step.
    Step(u32, u32, u32),
}

impl MemoryRange {
    fn smallest(&self) -> u32 {
        match self {
            MemoryRange::List(sizes) => sizes.first().copied().unwrap_or(0),
            MemoryRange::Step(from, _, _) => *from,
        }
    }

    /// The smallest size in the range that is at least `mib`.
    fn round_up(&self, mib: u32) -> Option<u32> {
        match self {
            MemoryRange::List(sizes) => sizes.iter().copied().find(|&s| s >= mib),
            MemoryRange::Step(from, to, step) => {
                if mib <= *from {
                    Some(*from)
                } else {
                    let steps = (mib - from).div_ceil(*step);
                    let size = from + steps * step;
                    (size <= *to).then_some(size)
                }
            }
        }
    }
}

/// A size Fargate accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FargateSize {
    /// CPU units (1024 = 1 vCPU).
    pub cpu_units: u32,
    /// Memory in MiB.
    pub memory_mib: u32,
}

impl FargateSize {
    pub fn vcpus(&self) -> f64 {
        f64::from(self.cpu_units) / UNITS_PER_VCPU
    }
}

/// Which input a sizing problem is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeInput {
    Cpus,
    Memory,
}

impl SizeInput {
    /// The input property's name.
    pub fn property(self) -> &'static str {
        match self {
            SizeInput::Cpus => "cpus",
            SizeInput::Memory => "memory",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SizingError {
    pub input: SizeInput,
    /// What is wrong and how to fix it.
    pub reason: String,
}

impl fmt::Display for SizingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.input.property(), self.reason)
    }
}

impl std::error::Error for SizingError {}

/// The smallest Fargate size with at least `cpus` vCPU (default 0.25) and at least `memory_mib`
/// (default: the least memory that CPU size allows).
pub fn fargate_size(
    cpus: Option<f64>,
    memory_mib: Option<u32>,
) -> Result<FargateSize, SizingError> {
    let cpus = cpus.unwrap_or(DEFAULT_CPUS);
    let cpu_units = cpu_units(cpus)?;
    if let Some(mib) = memory_mib {
        check_memory_bounds(mib)?;
    }
    FARGATE_SIZES
        .iter()
        .filter(|(units, _)| *units >= cpu_units)
        .find_map(|(units, memory)| {
            let mib = match memory_mib {
                Some(mib) => memory.round_up(mib)?,
                None => memory.smallest(),
            };
            Some(FargateSize {
                cpu_units: *units,
                memory_mib: mib,
            })
        })
        // Unreachable with the bounds checked above (16 vCPU with 120 GiB exists); kept as an
        // error rather than a panic.
        .ok_or_else(|| SizingError {
            input: SizeInput::Memory,
            reason: format!("no Fargate size has {cpus} vCPU and {memory_mib:?} MiB"),
        })
}

fn cpu_units(cpus: f64) -> Result<u32, SizingError> {
    let error = |reason: String| SizingError {
        input: SizeInput::Cpus,
        reason,
    };
    if !cpus.is_finite() || cpus <= 0.0 {
        return Err(error(format!(
            "must be more than 0 vCPU (for example 0.25, 0.5, 1 or 2); got {cpus}"
        )));
    }
    if cpus > MAX_VCPUS {
        return Err(error(format!(
            "Fargate tasks have at most 16 vCPU; got {cpus} — use 16 or less (or run more replicas)"
        )));
    }
    // The tolerance keeps values such as 0.1 * 3 from rounding up to the next size.
    Ok((cpus * UNITS_PER_VCPU - 1e-6).ceil().max(1.0) as u32)
}

fn check_memory_bounds(mib: u32) -> Result<(), SizingError> {
    let error = |reason: String| SizingError {
        input: SizeInput::Memory,
        reason,
    };
    if mib == 0 {
        return Err(error(
            "must be more than 0; use for example \"512Mi\" or \"1Gi\"".to_string(),
        ));
    }
    if mib > MAX_MEMORY_MIB {
        return Err(error(format!(
            "Fargate tasks have at most 120 GiB of memory; got {} — use \"120Gi\" or less",
            format_memory(mib)
        )));
    }
    Ok(())
}

const MEMORY_UNITS: &str =
    "M, MB, Mi or MiB for mebibytes, G, GB, Gi or GiB for gibibytes (all binary: 1G = 1024M)";

/// Parses a memory amount such as `"512M"`, `"1.5Gi"` or `"2048"` into MiB (rounded up).
///
/// Every unit is binary, as in Docker and Compose: `M`, `MB`, `Mi` and `MiB` all mean MiB, and
/// `G`, `GB`, `Gi` and `GiB` all mean GiB. Units are case-insensitive. A bare number is MiB.
pub fn parse_memory(text: &str) -> Result<u32, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let not_a_number = || {
        format!(
            "must be a number with an optional unit, for example \"512Mi\" or \"1.5Gi\"; got {:?}",
            text
        )
    };
    if number.is_empty() {
        return Err(not_a_number());
    }
    let mib_per_unit = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "m" | "mb" | "mi" | "mib" => 1.0,
        "g" | "gb" | "gi" | "gib" => 1024.0,
        _ => {
            return Err(format!(
                "has an unknown unit in {:?}: use a number with {MEMORY_UNITS}, or a bare number \
                 of MiB, for example \"512Mi\" or \"1.5Gi\"",
                text
            ));
        }
    };
    let amount: f64 = number.parse().map_err(|_| not_a_number())?;
    let mib = (amount * mib_per_unit).ceil();
    if mib > f64::from(u32::MAX) {
        return Err(format!(
            "Fargate tasks have at most 120 GiB of memory; got {text:?}"
        ));
    }
    Ok(mib as u32)
}

/// `mib` as a memory string that [`parse_memory`] reads back: `"1Gi"` for whole GiB, else
/// `"512Mi"`.
pub fn format_memory(mib: u32) -> String {
    if mib > 0 && mib.is_multiple_of(1024) {
        format!("{}Gi", mib / 1024)
    } else {
        format!("{mib}Mi")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(cpus: Option<f64>, memory: Option<u32>) -> (u32, u32) {
        let s = fargate_size(cpus, memory).unwrap();
        (s.cpu_units, s.memory_mib)
    }

    #[test]
    fn defaults_are_the_smallest_task() {
        assert_eq!(size(None, None), (256, 512));
        assert_eq!(fargate_size(None, None).unwrap().vcpus(), 0.25);
    }

    #[test]
    fn cpu_rounds_up_with_the_least_memory_for_it() {
        assert_eq!(size(Some(0.25), None), (256, 512));
        assert_eq!(size(Some(0.3), None), (512, 1024));
        assert_eq!(size(Some(0.5), None), (512, 1024));
        assert_eq!(size(Some(1.0), None), (1024, 2048));
        assert_eq!(size(Some(1.5), None), (2048, 4096));
        assert_eq!(size(Some(3.0), None), (4096, 8192));
        assert_eq!(size(Some(8.0), None), (8192, 16384));
        assert_eq!(size(Some(16.0), None), (16384, 32768));
        assert_eq!(size(Some(0.001), None), (256, 512));
        // Floating-point noise does not push a size up.
        assert_eq!(size(Some(0.1 * 5.0), None), (512, 1024));
    }

    #[test]
    fn memory_rounds_up_within_the_cpu_size_then_moves_up_a_cpu_size() {
        assert_eq!(size(None, Some(512)), (256, 512));
        assert_eq!(size(None, Some(600)), (256, 1024));
        assert_eq!(size(None, Some(2048)), (256, 2048));
        assert_eq!(size(None, Some(3000)), (512, 3072));
        assert_eq!(size(None, Some(4097)), (1024, 5120));
        assert_eq!(size(Some(1.0), Some(512)), (1024, 2048));
        assert_eq!(size(Some(2.0), Some(10 * 1024)), (2048, 10240));
        assert_eq!(size(Some(4.0), Some(30 * 1024 + 1)), (8192, 32768));
        assert_eq!(size(Some(8.0), Some(17000)), (8192, 20480));
        assert_eq!(size(None, Some(61441)), (16384, 65536));
        assert_eq!(size(None, Some(120 * 1024)), (16384, 122880));
    }

    #[test]
    fn every_table_entry_is_reachable_exactly() {
        for (units, memory) in FARGATE_SIZES {
            let sizes: Vec<u32> = match memory {
                MemoryRange::List(s) => s.to_vec(),
                MemoryRange::Step(from, to, step) => {
                    (*from..=*to).step_by(*step as usize).collect()
                }
            };
            for mib in sizes {
                let vcpus = f64::from(*units) / 1024.0;
                assert_eq!(size(Some(vcpus), Some(mib)), (*units, mib));
            }
        }
    }

    #[test]
    fn out_of_range_values_say_how_to_fix_them() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let err = fargate_size(Some(bad), None).unwrap_err();
            assert_eq!(err.input, SizeInput::Cpus);
            assert!(err.reason.contains("more than 0"), "{err}");
        }
        let err = fargate_size(Some(17.0), None).unwrap_err();
        assert_eq!(err.input, SizeInput::Cpus);
        assert!(err.reason.contains("at most 16 vCPU"), "{err}");

        let err = fargate_size(None, Some(0)).unwrap_err();
        assert_eq!(err.input, SizeInput::Memory);
        let err = fargate_size(None, Some(120 * 1024 + 1)).unwrap_err();
        assert_eq!(err.input, SizeInput::Memory);
        assert!(err.reason.contains("120 GiB"), "{err}");
        assert!(err.to_string().starts_with("memory: "), "{err}");
    }

    #[test]
    fn parses_memory_units() {
        let cases = [
            ("512", 512),
            ("512M", 512),
            ("512MB", 512),
            ("512Mi", 512),
            ("512MiB", 512),
            ("512m", 512),
            ("1G", 1024),
            ("1GB", 1024),
            ("1Gi", 1024),
            ("1GiB", 1024),
            ("1g", 1024),
            ("1.5G", 1536),
            (" 2 Gi ", 2048),
            ("0.5", 1),
            ("100Gi", 102400),
        ];
        for (text, mib) in cases {
            assert_eq!(parse_memory(text), Ok(mib), "{text}");
        }
    }

    #[test]
    fn rejects_bad_memory() {
        for bad in ["", "G", "1.2.3G", "1T", "1K", "-1G", "one gig", "1e3"] {
            let err = parse_memory(bad).unwrap_err();
            assert!(err.contains("\"512Mi\""), "{bad}: {err}");
        }
        let err = parse_memory("99999999999G").unwrap_err();
        assert!(err.contains("120 GiB"), "{err}");
    }

    #[test]
    fn formats_memory_for_parsing_back() {
        for mib in [512, 1024, 1536, 3072, 122880] {
            assert_eq!(parse_memory(&format_memory(mib)), Ok(mib));
        }
        assert_eq!(format_memory(2048), "2Gi");
        assert_eq!(format_memory(1536), "1536Mi");
    }
}

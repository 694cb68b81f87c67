//! Cron schedules as Kubernetes accepts them for a CronJob's `spec.schedule`.
//!
//! The API server validates a schedule with `cron.ParseStandard` of `github.com/robfig/cron/v3`
//! (`validateScheduleFormat` in `pkg/apis/batch/validation/validation.go`) and refuses `TZ=` or
//! `CRON_TZ=` in it (the `timeZone` field sets the zone). [`check`] mirrors that parser: five
//! fields (minute, hour, day of month, month, day of week) or a descriptor (`@daily`, `@every 1h`).

use crate::value::duration::Duration;

/// Bounds and names of one field, as in robfig/cron v3 `spec.go`.
struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

const FIELDS: [Field; 5] = [
    Field { name: "minute", min: 0, max: 59, names: &[] },
    Field { name: "hour", min: 0, max: 23, names: &[] },
    Field { name: "day of month", min: 1, max: 31, names: &[] },
    Field { name: "month", min: 1, max: 12, names: &MONTHS },
    Field { name: "day of week", min: 0, max: 6, names: &DAYS },
];

const DESCRIPTORS: [&str; 7] = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];

/// Checks `schedule` as a CronJob schedule.
///
/// # Errors
/// A message naming the schedule, the part that fails and an example.
pub fn check(schedule: &str) -> Result<(), String> {
    let bad = |why: String| {
        format!("`{schedule}` is not a cron schedule Kubernetes accepts: {why} (e.g. `55 23 * * *`, daily at 23:55)")
    };
    if schedule.contains("TZ") {
        return Err(bad("a time zone (`TZ=`, `CRON_TZ=`) is not allowed in the schedule".into()));
    }
    if let Some(every) = schedule.strip_prefix("@every ") {
        return Duration::parse(every).map(|_| ()).map_err(bad);
    }
    if schedule.starts_with('@') {
        return if DESCRIPTORS.contains(&schedule) {
            Ok(())
        } else {
            Err(bad(format!("unknown descriptor; use one of {} or `@every <duration>`", DESCRIPTORS.join(", "))))
        };
    }
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    if fields.len() != FIELDS.len() {
        return Err(bad(format!(
            "it has {} field(s); a schedule has five: minute, hour, day of month, month, day of week",
            fields.len()
        )));
    }
    for (text, field) in fields.iter().zip(&FIELDS) {
        // robfig splits a field on commas and drops empty parts (`strings.FieldsFunc`).
        for part in text.split(',').filter(|p| !p.is_empty()) {
            range(part, field).map_err(|why| bad(format!("{} `{part}`: {why}", field.name)))?;
        }
    }
    Ok(())
}

/// One `number | name | * | ?`, optionally `-end`, optionally `/step` (robfig `getRange`).
fn range(expr: &str, field: &Field) -> Result<(), String> {
    let mut steps = expr.split('/');
    let span = steps.next().unwrap_or_default();
    let step = steps.next();
    if steps.next().is_some() {
        return Err("too many slashes".into());
    }
    let ends: Vec<&str> = span.split('-').collect();
    let (start, end) = match ends.as_slice() {
        ["*" | "?"] => (field.min, field.max),
        [one] => {
            let start = number(one, field)?;
            // `N/step` means `N-max/step`.
            (start, if step.is_some() { field.max } else { start })
        }
        [from, to] => (number(from, field)?, number(to, field)?),
        _ => return Err("too many hyphens".into()),
    };
    if start < field.min {
        return Err(format!("below the minimum {}", field.min));
    }
    if end > field.max {
        return Err(format!("above the maximum {}", field.max));
    }
    if start > end {
        return Err(format!("the range starts ({start}) after it ends ({end})"));
    }
    if let Some(step) = step
        && number(step, &Field { names: &[], ..*field })? == 0
    {
        return Err("a step must be a positive number".into());
    }
    Ok(())
}

fn number(text: &str, field: &Field) -> Result<u32, String> {
    if let Some(i) = field.names.iter().position(|n| n.eq_ignore_ascii_case(text)) {
        // Month names count from 1, day names from 0 (`sun`).
        return u32::try_from(i).map(|i| i + field.min).map_err(|e| e.to_string());
    }
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{text}` is not a number{}", if field.names.is_empty() { "" } else { " or name" }));
    }
    text.parse().map_err(|_| format!("`{text}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn schedules_kubernetes_accepts_pass() {
        for ok in [
            "55 23 * * *",
            "*/15 * * * *",
            "0 0-23/2 * * MON-fri",
            "0 0 1,15 jan *",
            "5/10 * ? * 0",
            "@daily",
            "@every 1h30m",
            "0 0 1,,2 * *",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn schedules_kubernetes_refuses_fail_with_the_reason() {
        for (bad, why) in [
            ("55 23 * *", "it has 4 field(s)"),
            ("55 23 * * * *", "it has 6 field(s)"),
            ("60 23 * * *", "minute `60`: above the maximum 59"),
            ("0 24 * * *", "hour `24`: above the maximum 23"),
            ("0 0 0 * *", "day of month `0`: below the minimum 1"),
            ("0 0 * 13 *", "month `13`: above the maximum 12"),
            ("0 0 * * 7", "day of week `7`: above the maximum 6"),
            ("0 0 * * mon-sun", "the range starts (1) after it ends (0)"),
            ("*/0 * * * *", "a step must be a positive number"),
            ("1-2-3 * * * *", "too many hyphens"),
            ("1/2/3 * * * *", "too many slashes"),
            ("x * * * *", "`x` is not a number"),
            ("0 0 * foo *", "`foo` is not a number or name"),
            ("CRON_TZ=UTC 0 0 * * *", "a time zone"),
            ("@fortnightly", "unknown descriptor"),
            ("@every soon", "is not a duration"),
        ] {
            let err = check(bad).expect_err(bad);
            assert!(
                err.contains(why) && err.starts_with(&format!("`{bad}` is not a cron schedule Kubernetes accepts: ")),
                "{bad}: {err}"
            );
        }
    }
}

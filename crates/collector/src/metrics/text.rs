//! The classic Prometheus text format (0.0.4) for scrapers and tools that do not ask for
//! OpenMetrics (`curl`, `promtool check metrics`, older agents). The metrics are encoded as
//! OpenMetrics; the two formats differ only in what [`to_prometheus_text`] rewrites.

/// The content type of [`to_prometheus_text`]'s output.
pub(crate) const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// The content type of the OpenMetrics encoding.
pub(crate) const OPENMETRICS_TEXT: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Whether an `Accept` header asks for OpenMetrics (as Prometheus's own scraper does).
pub(crate) fn wants_openmetrics(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.contains("application/openmetrics-text"))
}

/// Rewrite OpenMetrics text as Prometheus text: a counter family `x` has its samples named
/// `x_total` in both formats, but its `# HELP` and `# TYPE` lines name `x` in OpenMetrics and
/// `x_total` in Prometheus text; `# UNIT` and the closing `# EOF` do not exist there.
pub(crate) fn to_prometheus_text(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len() + 64 * counters.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|prefix| {
            let rest = line.strip_prefix(prefix)?;
            let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
            counters
                .contains(name)
                .then(|| format!("{prefix}{name}_total {tail}"))
        });
        match renamed {
            Some(l) => out.push_str(l.trim_end()),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_renamed_and_openmetrics_only_lines_dropped() {
        let om = "# HELP faultline_observations Observations journaled.\n\
                  # TYPE faultline_observations counter\n\
                  faultline_observations_total 7\n\
                  # HELP faultline_incidents_open Open incidents.\n\
                  # TYPE faultline_incidents_open gauge\n\
                  faultline_incidents_open 1\n\
                  # EOF\n";
        let text = to_prometheus_text(om);
        assert_eq!(
            text,
            "# HELP faultline_observations_total Observations journaled.\n\
             # TYPE faultline_observations_total counter\n\
             faultline_observations_total 7\n\
             # HELP faultline_incidents_open Open incidents.\n\
             # TYPE faultline_incidents_open gauge\n\
             faultline_incidents_open 1\n"
        );
        assert!(wants_openmetrics(Some(
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
        )));
        assert!(!wants_openmetrics(Some("*/*")));
        assert!(!wants_openmetrics(None));
    }
}

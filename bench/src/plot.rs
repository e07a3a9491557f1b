//! The latency plot: p50, p90 and p99 of every scenario as grouped bars on
//! a logarithmic axis, one panel per backend.

use std::path::Path;

use anyhow::{anyhow, Context};
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

use crate::scenarios::{backend_name, BackendRun};

/// The TrueType font drawn with, from Debian's `fonts-dejavu-core`. The
/// plot is drawn with ab_glyph, which needs the font's bytes rather than a
/// system font lookup.
pub const DEFAULT_FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

const FONT_FAMILY: &str = "sans-serif";
const PERCENTILES: [(&str, RGBColor); 3] = [
    ("p50", RGBColor(66, 133, 244)),
    ("p90", RGBColor(251, 140, 0)),
    ("p99", RGBColor(211, 47, 47)),
];
const BAR_WIDTH: f64 = 0.22;

/// Draws the plot of `runs` into the PNG file `path`.
pub fn draw(path: &Path, runs: &[BackendRun], font: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(font).with_context(|| {
        format!(
            "failed to read the font {}; install Debian's fonts-dejavu-core or set BENCH_FONT",
            font.display()
        )
    })?;
    // register_font keeps a reference for the rest of the process.
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    register_font(FONT_FAMILY, FontStyle::Normal, bytes)
        .map_err(|_| anyhow!("{} is not a usable TrueType font", font.display()))?;

    let root = BitMapBackend::new(path, (1400, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(
        "platform-auth latency per scenario (wrk, log scale)",
        (FONT_FAMILY, 26),
    )?;
    let panels = root.split_evenly((1, runs.len().max(1)));
    for (panel, run) in panels.iter().zip(runs) {
        draw_panel(panel, run)?;
    }
    root.present()
        .with_context(|| format!("failed to write {}", path.display()))?;
    Ok(())
}

fn draw_panel(
    panel: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    run: &BackendRun,
) -> anyhow::Result<()> {
    let count = run.scenarios.len();
    let latencies: Vec<[f64; 3]> = run
        .scenarios
        .iter()
        .map(|result| {
            [result.load.p50_us, result.load.p90_us, result.load.p99_us]
                .map(|microseconds| (microseconds as f64 / 1000.0).max(0.001))
        })
        .collect();
    let lowest = latencies.iter().flatten().copied().fold(f64::MAX, f64::min);
    let highest = latencies.iter().flatten().copied().fold(0.0, f64::max);
    let y_range = (lowest / 2.0).max(0.001)..(highest * 2.0).max(1.0);

    // Scenario i is centred on x = i, so the axis's integer key points
    // fall under the bar groups.
    let mut chart = ChartBuilder::on(panel)
        .caption(backend_name(run.backend), (FONT_FAMILY, 22))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(80)
        .build_cartesian_2d(-0.5..count as f64 - 0.5, y_range.clone().log_scale())?;
    let labels: Vec<&str> = run
        .scenarios
        .iter()
        .map(|result| result.kind.short_label())
        .collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(count)
        .x_label_formatter(&|x| scenario_label(&labels, *x))
        .y_desc("latency, ms")
        .y_label_formatter(&|y| format!("{y}"))
        .label_style((FONT_FAMILY, 15))
        .axis_desc_style((FONT_FAMILY, 16))
        .draw()?;

    for (index, (name, color)) in PERCENTILES.iter().enumerate() {
        let offset = (index as f64 - 1.0) * BAR_WIDTH;
        let floor = y_range.start;
        chart
            .draw_series(latencies.iter().enumerate().map(|(scenario, values)| {
                let left = scenario as f64 + offset - BAR_WIDTH / 2.0;
                Rectangle::new(
                    [(left, floor), (left + BAR_WIDTH, values[index])],
                    color.filled(),
                )
            }))?
            .label(*name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT_FAMILY, 15))
        .draw()?;
    Ok(())
}

/// Names the scenario at an integer key point; other points get no label.
fn scenario_label(labels: &[&str], x: f64) -> String {
    let nearest = x.round();
    if (x - nearest).abs() > 1e-6 || nearest < 0.0 {
        return String::new();
    }
    labels
        .get(nearest as usize)
        .map_or(String::new(), |label| (*label).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_only_at_integer_points() {
        let labels = ["me", "login"];

        assert_eq!(scenario_label(&labels, 0.0), "me");
        assert_eq!(scenario_label(&labels, 1.0), "login");
        assert_eq!(scenario_label(&labels, 0.5), "");
        assert_eq!(scenario_label(&labels, 2.0), "");
        assert_eq!(scenario_label(&labels, -1.0), "");
    }
}

//! The cluster picker, drawn read-only from `app::picker::Picker`.

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, TableState};

use super::theme::Theme;
use crate::app::picker::{FOOTER, FOOTER_FILTERING, Picker};
use crate::status_list::{HEADERS, cells};

pub fn render(picker: &Picker, theme: Theme, now: Timestamp, frame: &mut Frame) {
    let [title, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    let visible = picker.visible();
    let in_bg = picker.rows.iter().filter(|r| r.in_break_glass()).count();
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(" breakglass ", theme.label()),
            Span::raw(format!(
                "· {} OpenBaoClusters in {}, {in_bg} in break glass · pick the incident",
                picker.rows.len(),
                picker.scope
            )),
        ])),
        title,
    );
    let rows = visible.iter().map(|r| {
        let style = if r.problem.is_some() {
            theme.warn()
        } else if r.in_break_glass() {
            theme.error()
        } else {
            theme.dim()
        };
        Row::new(cells(r, now)).style(style)
    });
    let widths = [
        Constraint::Max(14),
        Constraint::Max(16),
        Constraint::Max(10),
        Constraint::Max(12),
        Constraint::Min(24),
        Constraint::Length(7),
    ];
    let filter = if picker.filter.is_empty() && !picker.filtering {
        String::new()
    } else {
        format!(
            " filter: {}{} ",
            picker.filter,
            if picker.filtering { "▏" } else { "" }
        )
    };
    let table = Table::new(rows, widths)
        .header(Row::new(HEADERS).style(theme.label()))
        .row_highlight_style(
            theme
                .label()
                .add_modifier(ratatui::style::Modifier::REVERSED),
        )
        .highlight_symbol("▶ ")
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {} shown{filter}", visible.len())),
        );
    let mut state = TableState::default().with_selected(Some(picker.selected));
    frame.render_stateful_widget(table, body, &mut state);
    let hint = if picker.filtering {
        FOOTER_FILTERING
    } else {
        FOOTER
    };
    frame.render_widget(Paragraph::new(Span::styled(hint, theme.dim())), footer);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::discovery::{SAMPLE_NOW, sample_rows};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    #[test]
    fn the_picker_shows_every_row_the_selection_and_its_keys_at_80_columns() {
        let now: Timestamp = SAMPLE_NOW.parse().unwrap();
        let rows = sample_rows();
        let mut p = Picker::new(rows, "all namespaces".into());
        p.selected = 1;
        let mut term = Terminal::new(TestBackend::new(80, 10)).unwrap();
        term.draw(|f| render(&p, Theme { color: false }, now, f))
            .unwrap();
        let text: Vec<String> = (0..10)
            .map(|y| {
                (0..80)
                    .map(|x| term.backend().buffer()[(x, y)].symbol().to_string())
                    .collect::<String>()
            })
            .collect();
        let all = text.join("\n");
        assert!(
            all.contains("2 OpenBaoClusters in all namespaces, 1 in break glass"),
            "{all}"
        );
        assert!(
            all.contains("prod") && all.contains("12m RollbackConsensus"),
            "{all}"
        );
        assert!(text.iter().any(|l| l.contains("▶ team-b")), "{all}");
        assert!(all.contains(FOOTER), "{all}");
    }
}

//! The help overlay, generated from `app::keymap::KEYMAP` so it cannot drift from the keys.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::dialog::centered;
use super::theme::Theme;
use crate::app::keymap::{KEYMAP, Keys};

/// `log`: where warnings go; `scope`: what the watch of other clusters covers, or why not.
pub(crate) fn render(
    t: Theme,
    keys: Keys,
    scroll: u16,
    (log, scope): (&str, &[String]),
    frame: &mut Frame,
    area: Rect,
) {
    let keys_w = KEYMAP
        .iter()
        .map(|b| keys.label(b).chars().count())
        .max()
        .unwrap_or(8);
    // First the optional scope watch's state (it never raises a banner), then the keys.
    let scope = scope.iter().map(|l| Line::styled(super::clean(l), t.dim()));
    let lines: Vec<Line> = scope
        .chain(KEYMAP.iter().map(|b| {
            Line::from(vec![
                Span::styled(format!("{:<9}", b.context.label()), t.dim()),
                Span::styled(format!("{:<keys_w$}  ", keys.label(b)), t.label()),
                Span::raw(b.description),
            ])
        }))
        .collect();
    let rect = centered(area, 76, u16::try_from(lines.len() + 2).unwrap_or(u16::MAX));
    if rect.width < 3 || rect.height < 3 {
        return;
    }
    frame.render_widget(Clear, rect);
    let visible = usize::from(rect.height.saturating_sub(2));
    let scroll = scroll.min(u16::try_from(lines.len().saturating_sub(visible)).unwrap_or(0));
    // Where warnings go (the log file), on the bottom border.
    let mut block = Block::bordered()
        .title(Span::styled(" Keys (Esc closes) ", t.label()))
        .title_bottom(Line::from(format!(" {} ", super::clean(log))))
        .border_style(t.border(true));
    if lines.len() > visible + usize::from(scroll) {
        block = block.title_bottom(Line::from(" ↓ more: j ").right_aligned());
    }
    frame.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), rect);
}

// The event timeline: congestion onsets and clears, link and switch changes, path changes; newest first.
import { levelColor } from '/dashboard/colors.js';

const LABELS = {
  congestion_onset: 'congestion onset',
  congestion_clear: 'congestion cleared',
  link_up: 'link up',
  link_down: 'link down',
  path_change: 'path change',
  switch_up: 'switch up',
  switch_down: 'switch down',
};

/** The level an event's marker shows: its own, or what the event implies. */
function markerLevel(e) {
  if (e.level) return e.level;
  if (e.event === 'congestion_onset') return 'congested';
  if (e.event === 'link_down' || e.event === 'switch_down') return 'down';
  return 'ok';
}

function time(ts) {
  return new Date(ts).toLocaleTimeString([], { hour12: false });
}

export function renderTimeline(list, empty, events) {
  empty.hidden = events.length > 0;
  list.replaceChildren(
    ...events.map((e) => {
      const li = document.createElement('li');
      li.dataset.event = e.event;
      if (e.linkId) li.dataset.linkId = e.linkId;
      const level = markerLevel(e);
      li.dataset.level = level;

      const dot = document.createElement('span');
      dot.className = 'dot';
      dot.style.backgroundColor = levelColor(level);
      const when = document.createElement('time');
      when.dateTime = new Date(e.ts).toISOString();
      when.textContent = time(e.ts);
      const what = document.createElement('strong');
      what.textContent = LABELS[e.event] ?? e.event.replaceAll('_', ' ');
      const where = document.createElement('span');
      where.className = 'where';
      const parts = [e.linkId ?? e.dpid ?? ''];
      if (typeof e.utilization === 'number') parts.push(`${Math.round(e.utilization * 100)}%`);
      if (e.replayed) parts.push('(replayed)');
      where.textContent = parts.filter(Boolean).join(' ');
      where.title = where.textContent;
      li.append(dot, when, what, where);
      return li;
    }),
  );
}

// MCU rooms: the layout of the mix (grid, speaker, presentation) for hosts and speakers,
// through conference.setLayout; everyone's choice follows layoutChanged. Shown only in
// a room whose mix the page plays. An extension of the meeting page (meeting.js).
import { $ } from './dom.js';
import { session } from './session.js';
import { messageFor } from './errors.js';

let meeting = null;
let off = null;

export const mix = {
  attach(m) {
    meeting = m;
    const conf = m.conference;
    const select = $('m-layout');
    const label = $('m-layout-label');
    label.hidden = !(conf.mixed && ['host', 'speaker'].includes(conf.me.role));
    off = session.rpc.on('layoutChanged', ({ layout }) => {
      if ([...select.options].some((o) => o.value === layout)) select.value = layout;
      m.status(`Layout: ${layout}`);
    });
  },
  detach() {
    if (off) off();
    off = null;
    $('m-layout-label').hidden = true;
  },
  init() {
    $('m-layout').addEventListener('change', async (ev) => {
      try {
        await session.rpc.call('conference.setLayout', { layout: ev.target.value });
      } catch (e) {
        if (meeting) meeting.status(messageFor(e));
      }
    });
  },
};

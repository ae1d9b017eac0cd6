// indicator: the LEDs and buzzer that tell the customer what happened.
import { defineSection } from '../rules.js';
import { devicePath, doc, int, oneOf, section } from '../fields.js';
import { DEFAULTS } from '../defaults.js';

const D = DEFAULTS.indicator;

export const INDICATOR_DRIVERS = ['johnny-five', 'sim', 'log'] as const;
export const INDICATOR_IOS = ['gpio', 'firmata'] as const;
export const BUZZER_KINDS = ['piezo', 'active'] as const;

// BCM numbers with io gpio (0–27), the board's pin numbers with io firmata (0–127): the schema allows the
// wider range and a rule holds gpio pins to BCM.
const pin = (def: number) => int(0, 127, '(pin number)').default(def);
const PIN_DOC = 'BCM pin with `io` `gpio` (0–27); the board\'s pin number with `firmata` (0–127).';

export const indicator = defineSection(
  section({
    driver: doc(oneOf(INDICATOR_DRIVERS).default(D.driver), '`johnny-five` (real LEDs and buzzer), `sim` (demo panel), `log` (each pattern as a JSON log line: headless).'),
    io: doc(oneOf(INDICATOR_IOS).default(D.io), '`gpio` (the Pi\'s own pins) or `firmata` (an Arduino-type board on a serial port).'),
    firmataPort: doc(devicePath('/dev/ttyACM0').default(D.firmataPort), 'The Firmata board\'s absolute device path, e.g. `/dev/ttyACM0`.', { required: 'R if `io` is `firmata`' }),
    pins: section(
      {
        green: doc(pin(D.pins.green), PIN_DOC),
        red: doc(pin(D.pins.red), PIN_DOC),
        amber: doc(pin(D.pins.amber), PIN_DOC),
        buzzer: doc(pin(D.pins.buzzer), PIN_DOC),
      },
      'object',
    ).prefault({}),
    buzzer: doc(oneOf(BUZZER_KINDS).default(D.buzzer), '`active` (a buzzer that sounds on a plain high output) or `piezo` (a passive one driven with tones).'),
  }).prefault({}),
  [
    {
      check(c) {
        const io = c.str('indicator.io');
        if (c.str('indicator.driver') === 'johnny-five' && io === 'firmata' && c.value('indicator.firmataPort') === '') {
          c.add('indicator.firmataPort', 'missing (required with io "firmata")');
        }
        if (io === 'gpio') {
          for (const name of ['green', 'red', 'amber', 'buzzer']) {
            const p = c.int(['indicator', 'pins', name]);
            if (p !== undefined && p > 27) c.add(['indicator', 'pins', name], 'must be between 0 and 27 (BCM GPIO number) with io "gpio"');
          }
        }
      },
    },
  ],
);

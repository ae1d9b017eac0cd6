// `pm2 start ecosystem.config.js` (the name pm2 users expect). This package is "type": "module", so this
// file is an ES module; pm2 require()s it, which works on Node >= 20.19 (require of ES modules).
// On older Node use ecosystem.config.cjs, the real definition, directly.
import config from './ecosystem.config.cjs';

export const apps = config.apps;
export default config;

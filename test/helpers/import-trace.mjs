// Preload (`node --import`) that installs import-trace-hooks.mjs.
import { register } from 'node:module';

register(new URL('./import-trace-hooks.mjs', import.meta.url));

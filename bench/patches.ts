// Imported first by bench/main.ts, an entry point like bin/tracklane.js: the kafkajs patches
// must be in place before kafkajs loads (src/source/kafkajs-patches/).
import { install } from '../src/source/kafkajs-patches';

install();

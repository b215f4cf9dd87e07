// jest maps kafkajs's `./filterAbortedMessages` here (jest.config.js), as bin/tracklane.js does at run time.
import { filterAbortedMessages } from '../../src/source/kafkajs-patches/read-committed';

export = filterAbortedMessages;

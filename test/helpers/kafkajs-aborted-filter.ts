// jest maps kafkajs's `./filterAbortedMessages` here (jest.config.js), as bin/tracklane.js does at run time.
import { filterAbortedMessages } from '../../src/source/read-committed';

export = filterAbortedMessages;

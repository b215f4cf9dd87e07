// The engine's corrected read_committed filter, as test readers use it.
export * from '../../src/source/kafkajs-patches/read-committed';

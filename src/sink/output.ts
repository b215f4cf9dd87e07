/** A record for one of the topology's output topics, ready for kafkajs. */
export interface OutputMessage {
  topic: string;
  key: Buffer | string | null;
  value: Buffer;
  headers?: Record<string, Buffer | string>;
  partition?: number;
}

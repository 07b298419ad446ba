/** QMP error classes (qapi/error.json QapiErrorClass). */
export type QmpErrorClass = 'GenericError' | 'CommandNotFound' | 'DeviceNotFound' | 'DeviceNotActive' | 'KVMMissingCap';

/** An error a command returns as {"error": {"class", "desc"}}. */
export class QmpError extends Error {
  override readonly name = 'QmpError';
  constructor(readonly errorClass: QmpErrorClass, readonly desc: string) {
    super(desc);
  }
}

export const genericError = (desc: string): QmpError => new QmpError('GenericError', desc);

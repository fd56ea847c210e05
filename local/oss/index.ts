export type {
  BucketSnapshot,
  InjectedFault,
  InterceptedOperation,
  ObjectSnapshot,
  OssEmulatorOptions,
} from './emulator';
export { OssEmulator } from './emulator';
export type { OperationName } from './operations';
export type { BucketAcl, ObjectAcl } from './state';

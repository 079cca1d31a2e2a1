export {
  Allocator,
  PoolConfigError,
  type AllocateResult,
  type Assignment,
  type AssignResult,
  type Eviction,
  type PoolStats,
} from "./allocator.js";
export { AllocatorInvariantError } from "./poolState.js";
export type { PoolSpec, ServiceAllocation } from "./pool.js";
export {
  failure,
  type AllocationFailure,
  type AllocationFailureCode,
  type IPSource,
  type SharingConflict,
} from "./reasons.js";
export {
  portKey,
  serviceKey,
  type IPFamilyPolicy,
  type PortProtocol,
  type ServicePort,
  type ServiceRequest,
} from "./service.js";

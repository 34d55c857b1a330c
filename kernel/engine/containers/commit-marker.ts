// Written into a container's bundle (PID-START of the committing process)
// while a commit holds the container frozen: a commit killed before it
// thawed the container is found by the next start, which thaws it
// (containers/recovery.ts).
export const COMMITTING = 'committing';

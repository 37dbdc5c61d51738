import type { TestProject } from 'vitest/node';

// Placeholder until the stub servers land: provides an address nothing listens on.
export default function setup(project: TestProject) {
  project.provide('stubUrl', 'http://127.0.0.1:9');
}

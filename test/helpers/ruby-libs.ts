import { execFileSync } from 'node:child_process';

/** The Debian packages the corpus generator's stand-in backup-agent is built from. */
export const CORPUS_PACKAGES = ['ruby', 'ruby-rack', 'ruby-sinatra', 'puma', 'ruby-webrick', 'ruby-railties', 'ruby-actionpack'];

const LIBRARIES = ['rack', 'sinatra/base', 'puma', 'webrick', 'rails', 'action_controller/railtie'];

/**
 * Whether Ruby and the libraries the corpus generator runs are installed. Like
 * haveTool: where they are missing the test skips with the packages to install,
 * and under CI=true (where .ci/run installs them) that is a failure instead.
 */
export function haveCorpusLibraries(): boolean {
  try {
    execFileSync('ruby', ['-e', LIBRARIES.map((l) => `require ${JSON.stringify(l)}`).join('; ')], { stdio: 'ignore' });
    return true;
  } catch {
    const message = `ruby or its libraries are missing: apt-get install ${CORPUS_PACKAGES.join(' ')}`;
    if (process.env.CI === 'true') throw new Error(`${message} (CI=true: missing packages fail the run)`);
    console.warn(`skipping the corpus test: ${message}`);
    return false;
  }
}

import semver from 'semver';
console.log(semver.valid('1.2.3-beta.1'), semver.satisfies('1.4.0', '^1.2.0 || >=2.0.0'), semver.gt('2.0.0', '2.0.0-rc.1'));
console.log(semver.inc('1.2.3', 'minor'), semver.maxSatisfying(['1.0.0', '1.5.2', '2.0.0'], '~1.5'), semver.coerce('v3.4 is out').version);
console.log(semver.sort(['1.10.0', '1.2.0', '1.2.0-alpha']).join(' '), new semver.Range('>=1.2 <2').toString(), semver.diff('1.2.3', '1.3.0'));

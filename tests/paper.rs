//! The printed runbook works without drbook: for every built-in action family, `render`
//! shows the commands an operator would type by hand, with the step's literal values,
//! `target.*` values when `--target` binds a target, and secrets only as references to
//! where they come from. Run through the real executable, in both formats.

use crate::support::Drbook;

/// One step of every action family, with literal values, target reads and secrets.
const RUNBOOK: &str = r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: paper, version: 1.0.0}
spec:
  objectives: {rto: 1h, rpo: 1h}
  secrets:
    - {name: restic_password, env: RESTIC_PASSWORD}
    - {name: s3_key, env: BACKUP_S3_KEY}
    - {name: s3_secret, file: /run/secrets/s3-secret}
  steps:
    - id: health
      action: etcd.health
      with: {endpoints: "{{ target.etcd.endpoints }}", cacert: /etc/kubernetes/pki/etcd/ca.crt, mode: quorum}
    - id: members
      action: etcd.members
      with: {endpoints: [http://10.0.0.1:2379, http://10.0.0.2:2379]}
    - id: save
      action: etcd.snapshot.save
      with: {endpoint: http://10.0.0.1:2379, file: /backup/etcd.db}
    - id: verify_snapshot
      action: etcd.snapshot.verify
      with: {file: /backup/etcd.db.gz}
    - id: restore
      action: etcd.snapshot.restore
      with:
        file: /backup/etcd.db
        token: restored-1
        members:
          - {name: m0, peer_url: "http://10.0.0.1:2380", data_dir: /var/lib/etcd-m0}
          - {name: m1, peer_url: "http://10.0.0.2:2380", data_dir: /var/lib/etcd-m1}
    - id: restore_from_target
      action: etcd.snapshot.restore
      with: {file: /backup/etcd.db, token: restored-2, members: "{{ target.etcd.members }}"}
    - id: pki_verify
      action: pki.verify
      with: {dir: /etc/kubernetes/pki}
    - id: pki_restore
      action: pki.restore
      with: {from: backup/pki, to: /etc/kubernetes/pki, from_layout: kubeone-backup}
    - id: snapshots
      action: restic.snapshots
      with: {repository: "{{ target.restic_repository }}", password: "{{ secrets.restic_password }}", tag: etcd}
    - id: restic_restore
      action: restic.restore
      with: {repository: "{{ target.restic_repository }}", password: "{{ secrets.restic_password }}", snapshot: "{{ steps.snapshots.outputs.id }}", target: restored}
    - id: s3_list
      action: s3.list
      with: {bucket: backups, endpoint: "http://127.0.0.1:9000", access_key_id: "{{ secrets.s3_key }}", secret_access_key: "{{ secrets.s3_secret }}", prefix: etcd-}
    - id: s3_latest
      action: s3.latest
      with: {bucket: backups, endpoint: "http://127.0.0.1:9000", access_key_id: "{{ secrets.s3_key }}", secret_access_key: "{{ secrets.s3_secret }}", prefix: etcd-, suffix: .db.gz}
    - id: s3_get
      action: s3.get
      with: {bucket: backups, endpoint: "http://127.0.0.1:9000", access_key_id: "{{ secrets.s3_key }}", secret_access_key: "{{ secrets.s3_secret }}", key: "{{ steps.s3_latest.outputs.key }}", file: snapshot.db.gz}
    - id: copy
      action: rclone.copy
      with: {source: /backup, destination: offsite/etcd, destination_remote: {type: s3, endpoint: "http://127.0.0.1:9000", access_key_id: "{{ secrets.s3_key }}"}}
    - id: sync
      action: rclone.sync
      with: {source: /backup, destination: /mirror, max_delete: "25"}
    - id: check
      action: rclone.check
      with: {source: /backup, destination: /mirror, one_way: true}
    - id: wait
      action: wait
      with: {probe: "curl -fsS http://10.0.0.1:2379/health", timeout: 5m, interval: 10s}
    - id: shell
      action: shell
      with: {run: "systemctl start etcd", env: {ETCD_NAME: "{{ target.etcd.members[0].name }}"}}
      marks: recovered
"#;

const TARGETS: &str = r#"
apiVersion: drbook.io/v1
kind: Targets
targets:
  lab:
    environment: staging
    drill: allowed
    restic_repository: s3:http://127.0.0.1:9000/restic
    etcd:
      endpoints: [https://10.1.0.1:2379, https://10.1.0.2:2379]
      members:
        - {name: cp-0, peer_url: "https://10.1.0.1:2380", data_dir: /var/lib/etcd}
        - {name: cp-1, peer_url: "https://10.1.0.2:2380", data_dir: /var/lib/etcd-1}
"#;

/// Values of the secrets' variables, which must never be printed.
const SECRET_VALUES: [(&str, &str); 2] = [
    ("RESTIC_PASSWORD", "restic-password-never-printed"),
    ("BACKUP_S3_KEY", "s3-key-never-printed"),
];

fn render(extra: &[&str]) -> String {
    let mut test = Drbook::new().runbook(RUNBOOK).targets(TARGETS);
    for (name, value) in SECRET_VALUES {
        test = test.env(name, value);
    }
    let ran = test
        .args(["render", "runbook.yaml"])
        .args(extra.iter().copied())
        .run();
    assert_eq!(ran.code, 0, "{ran:?}");
    for (_, value) in SECRET_VALUES {
        assert!(!ran.stdout.contains(value), "a secret's value is printed");
    }
    ran.stdout
}

/// The HTML as a reader sees it, markup entities decoded.
fn unescape(html: &str) -> String {
    html.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

fn assert_lines(out: &str, lines: &[&str]) {
    for line in lines {
        assert!(out.contains(line), "missing `{line}` in:\n{out}");
    }
}

/// Lines that are the same with or without a target.
const LITERAL: &[&str] = &[
    "ETCDCTL_API=3 etcdctl --endpoints=http://10.0.0.1:2379,http://10.0.0.2:2379 member list -w table",
    "ETCDCTL_API=3 etcdctl --endpoints=http://10.0.0.1:2379 snapshot save /backup/etcd.db",
    "sha256sum /backup/etcd.db",
    "gunzip -k /backup/etcd.db.gz",
    "etcdutl snapshot status /backup/etcd.db -w table",
    "etcdutl snapshot restore /backup/etcd.db --name m0 --initial-cluster m0=http://10.0.0.1:2380,m1=http://10.0.0.2:2380 --initial-advertise-peer-urls http://10.0.0.1:2380 --initial-cluster-token restored-1 --data-dir /var/lib/etcd-m0",
    "etcdutl snapshot restore /backup/etcd.db --name m1 --initial-cluster m0=http://10.0.0.1:2380,m1=http://10.0.0.2:2380 --initial-advertise-peer-urls http://10.0.0.2:2380 --initial-cluster-token restored-1 --data-dir /var/lib/etcd-m1",
    "# etcd 3.4: ETCDCTL_API=3 etcdctl snapshot restore with the same arguments",
    "openssl x509 -in /etc/kubernetes/pki/ca.crt -noout -subject -enddate -checkend 2592000",
    "diff <(openssl pkey -pubin -in /etc/kubernetes/pki/sa.pub) <(openssl pkey -in /etc/kubernetes/pki/sa.key -pubout)",
    "openssl verify -CAfile /etc/kubernetes/pki/ca.crt /etc/kubernetes/pki/apiserver.crt",
    "[ ! -e /etc/kubernetes/pki/ca.key ] || cp -p /etc/kubernetes/pki/ca.key /etc/kubernetes/pki/ca.key.drbook-$STAMP; install -m 0600 backup/pki/kubernetes/ca.key /etc/kubernetes/pki/ca.key",
    "# RESTIC_PASSWORD must hold the repository's password",
    "restic snapshots --tag etcd",
    "restic restore \"{{ steps.snapshots.outputs.id }}\" --target restored --verify",
    "export RCLONE_S3_ACCESS_KEY_ID=\"$BACKUP_S3_KEY\"",
    "export RCLONE_S3_SECRET_ACCESS_KEY=\"$(cat /run/secrets/s3-secret)\"",
    "rclone lsl :s3:backups --include '/etcd-**'",
    "rclone lsl :s3:backups --include '/etcd-**.db.gz' | sort -k2,3 | tail -n 1",
    "rclone copyto \":s3:backups/{{ steps.s3_latest.outputs.key }}\" snapshot.db.gz",
    "export RCLONE_CONFIG_DRBOOKDST_TYPE=s3",
    "rclone copy /backup DRBOOKDST:offsite/etcd",
    "rclone sync /backup /mirror --max-delete 25 --dry-run",
    "rclone check /backup /mirror --one-way",
    "until curl -fsS http://10.0.0.1:2379/health; do sleep 10s; done",
];

#[test]
fn render_shows_the_commands_of_every_action_family_by_hand() {
    let md = render(&[]);
    assert_lines(&md, LITERAL);
    // Without a target, what the target holds stays as written.
    assert_lines(
        &md,
        &[
            "ETCDCTL_API=3 etcdctl --endpoints=\"{{ target.etcd.endpoints }}\" --cacert=/etc/kubernetes/pki/etcd/ca.crt endpoint health",
            "# once for each member of {{ target.etcd.members }}",
            "export RESTIC_REPOSITORY=\"{{ target.restic_repository }}\"",
            "export ETCD_NAME=\"{{ target.etcd.members[0].name }}\"\n# then the command above, in the same shell",
        ],
    );
    assert!(md.contains("- `target.restic_repository`: ______________________"));
    // Every action step has its block; the plain `shell` step without environment
    // would not, but this one exports a variable.
    assert_eq!(md.matches("By hand, without drbook:").count(), 18, "{md}");
}

#[test]
fn html_shows_the_same_commands() {
    let html = render(&["--format", "html"]);
    assert!(!html.contains("<script"));
    assert_lines(&unescape(&html), LITERAL);
    assert_eq!(html.matches("By hand, without drbook:").count(), 18);
}

#[test]
fn a_bound_target_fills_in_its_values_but_never_a_secret() {
    for format in ["md", "html"] {
        let out = render(&["--target", "lab", "--format", format]);
        let out = if format == "html" {
            unescape(&out)
        } else {
            out
        };
        assert_lines(&out, LITERAL);
        assert_lines(
            &out,
            &[
                "ETCDCTL_API=3 etcdctl --endpoints=https://10.1.0.1:2379,https://10.1.0.2:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt endpoint health",
                "etcdutl snapshot restore /backup/etcd.db --name cp-0 --initial-cluster cp-0=https://10.1.0.1:2380,cp-1=https://10.1.0.2:2380 --initial-advertise-peer-urls https://10.1.0.1:2380 --initial-cluster-token restored-2 --data-dir /var/lib/etcd",
                "etcdutl snapshot restore /backup/etcd.db --name cp-1 --initial-cluster cp-0=https://10.1.0.1:2380,cp-1=https://10.1.0.2:2380 --initial-advertise-peer-urls https://10.1.0.2:2380 --initial-cluster-token restored-2 --data-dir /var/lib/etcd-1",
                "export RESTIC_REPOSITORY=s3:http://127.0.0.1:9000/restic",
                "export ETCD_NAME=cp-0",
            ],
        );
        // The values to look up are looked up already.
        let fact = if format == "md" {
            "- `target.restic_repository`: `s3:http://127.0.0.1:9000/restic`"
        } else {
            "<tr><td><code>target.restic_repository</code></td><td><code>s3:http://127.0.0.1:9000/restic</code></td></tr>"
        };
        assert!(out.contains(fact), "{out}");
        assert!(!out.contains("# once for each member of"), "{out}");
    }
}

#[test]
fn an_unknown_target_is_refused_like_a_run_refuses_it() {
    let ran = Drbook::new()
        .runbook(RUNBOOK)
        .targets(TARGETS)
        .args(["render", "runbook.yaml", "--target", "nope"])
        .run();
    assert_eq!(ran.code, 4, "{ran:?}");
    assert!(ran.stderr.contains("no target `nope`"), "{}", ran.stderr);
    assert!(ran.stdout.is_empty());
}

// Accounts (administrators change them; operators and inspectors may read): the list within the
// caller's scope, a form to create one, and per account: roles, scope, department, duty phone,
// enabled or not, and a new password.
import { useState } from 'preact/hooks';
import { get, post, patch } from '../lib/api.js';
import { Dialog, ErrorBox, Loading, Empty, useAsync, useT } from '../lib/ui.jsx';
import { formatTime } from '../lib/time.js';
import { i18n } from '../lib/i18n.js';

const ROLES = ['worker', 'leader', 'operator', 'handler', 'inspector', 'admin'];

function AccountForm({ account, onClose, onDone }) {
  const t = useT();
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const isNew = !account;
  async function submit(e) {
    e.preventDefault();
    const f = e.currentTarget;
    const roles = ROLES.filter((r) => f['role-' + r].checked);
    const body = { display_name: f.display_name.value, roles, scope: f.scope.value.trim(), department: f.department.value, duty_phone: f.duty_phone.value };
    setBusy(true);
    setError(null);
    try {
      if (isNew) await post('/api/v1/users', { ...body, username: f.username.value.trim(), password: f.password.value });
      else {
        await patch('/api/v1/users/' + account.id, { ...body, disabled: f.disabled.checked });
        if (f.password.value) await post('/api/v1/users/' + account.id + '/password', { password: f.password.value });
      }
      onDone();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }
  const a = account || { roles: [], scope: '', display_name: '', department: '', duty_phone: '' };
  return (
    <Dialog title={isNew ? t('users.new') : t('users.edit', { name: a.username })} onClose={onClose}>
      <form onSubmit={submit} class="stack">
        {isNew && (
          <>
            <label for="u-username">{t('login.username')}</label>
            <input id="u-username" name="username" required pattern="[a-z][a-z0-9._\-]{2,31}" autocomplete="off" />
          </>
        )}
        <label for="u-display">{t('users.displayName')}</label>
        <input id="u-display" name="display_name" value={a.display_name} />
        <fieldset>
          <legend>{t('users.roles')}</legend>
          {ROLES.map((r) => (
            <label class="check" key={r}>
              <input type="checkbox" name={'role-' + r} defaultChecked={a.roles.includes(r)} /> {t('role.' + r)}
            </label>
          ))}
        </fieldset>
        <label for="u-scope">{t('users.scope')}</label>
        <input id="u-scope" name="scope" value={a.scope} inputmode="numeric" aria-describedby="u-scope-hint" />
        <small id="u-scope-hint" class="hint">{t('users.scopeHint')}</small>
        <label for="u-dept">{t('users.department')}</label>
        <input id="u-dept" name="department" value={a.department} />
        <label for="u-phone">{t('users.phone')}</label>
        <input id="u-phone" name="duty_phone" value={a.duty_phone} inputmode="tel" />
        <label for="u-password">{isNew ? t('login.password') : t('users.newPassword')}</label>
        <input id="u-password" name="password" type="password" required={isNew} minlength="10" autocomplete="new-password" aria-describedby="u-pw-hint" />
        <small id="u-pw-hint" class="hint">{t('users.passwordHint')}</small>
        {!isNew && (
          <label class="check">
            <input type="checkbox" name="disabled" defaultChecked={a.disabled} /> {t('users.disabled')}
          </label>
        )}
        <ErrorBox error={error} />
        <div class="buttons">
          <button type="button" onClick={onClose}>{t('common.cancel')}</button>
          <button type="submit" class="primary" disabled={busy}>{t('common.save')}</button>
        </div>
      </form>
    </Dialog>
  );
}

export function Users({ ctx }) {
  const t = useT();
  const d = useAsync(() => get('/api/v1/users'), []);
  const [edit, setEdit] = useState(undefined); // undefined: closed, null: new, object: edit
  const admin = ctx.perms.includes('user.admin');
  return (
    <section class="page">
      <header class="page-head">
        <h1>{t('nav.users')}</h1>
        {admin && (
          <button type="button" class="primary" onClick={() => setEdit(null)}>
            {t('users.new')}
          </button>
        )}
      </header>
      {!admin && <p class="hint">{t('users.readOnly')}</p>}
      {d.loading && <Loading />}
      <ErrorBox error={d.error} onRetry={d.reload} />
      {d.data && !d.data.users.length && <Empty text={t('users.empty')} />}
      {d.data && d.data.users.length > 0 && (
        <table class="data">
          <thead>
            <tr>
              <th scope="col">{t('login.username')}</th>
              <th scope="col">{t('users.displayName')}</th>
              <th scope="col">{t('users.roles')}</th>
              <th scope="col">{t('users.scope')}</th>
              <th scope="col">{t('users.department')}</th>
              <th scope="col">{t('users.state')}</th>
              <th scope="col">{t('users.created')}</th>
              {admin && <th scope="col"><span class="sr-only">{t('users.edit', { name: '' })}</span></th>}
            </tr>
          </thead>
          <tbody>
            {d.data.users.map((u) => (
              <tr key={u.id} class={u.disabled ? 'muted' : ''}>
                <td>{u.username}</td>
                <td>{u.display_name}</td>
                <td>{u.roles.map((r) => t('role.' + r)).join('、')}</td>
                <td>{u.scope || t('users.everything')}</td>
                <td>{u.department}</td>
                <td>{u.disabled ? t('users.disabled') : t('users.enabled')}</td>
                <td>{formatTime(u.created_at, i18n.language)}</td>
                {admin && (
                  <td>
                    <button type="button" onClick={() => setEdit(u)}>{t('common.edit')}</button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {edit !== undefined && (
        <AccountForm
          account={edit}
          onClose={() => setEdit(undefined)}
          onDone={() => {
            setEdit(undefined);
            d.reload();
          }}
        />
      )}
    </section>
  );
}

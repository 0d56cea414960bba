// Grid administration: the hierarchy as a keyboard-navigable tree, the chosen grid's facts, team
// and history, the topology check's findings drawn on the map, and (for roles with grid.write)
// the import of a GeoJSON file with its progress and report (GridImport.jsx).
import { useEffect, useRef, useState } from 'preact/hooks';
import { tree, findings, children, grid as gridOf, asFeatures } from '../lib/grids.js';
import { get } from '../lib/api.js';
import { createMap, geoLayer, GRADE_COLOURS, pointMarker, L } from '../lib/map.js';
import { nameOf, i18n } from '../lib/i18n.js';
import { formatTime } from '../lib/time.js';
import { ErrorBox, Loading, Empty, useAsync, useT } from '../lib/ui.jsx';
import { useGridImport, ImportForm, ImportReport } from './GridImport.jsx';

function Node({ g, selected, open, toggle, depth }) {
  const kids = g.children || [];
  const isOpen = open.has(g.code);
  return (
    <li role="treeitem" aria-expanded={kids.length ? isOpen : undefined} aria-selected={selected === g.code} aria-level={depth}>
      <div class="node">
        {kids.length ? (
          <button type="button" class="twisty" onClick={() => toggle(g.code)} aria-label={(isOpen ? '−' : '+') + ' ' + nameOf(g)}>
            {isOpen ? '▾' : '▸'}
          </button>
        ) : (
          <span class="twisty" />
        )}
        <a href={'#/grids/' + g.code} class={selected === g.code ? 'on' : ''}>
          <i class="dot" style={{ background: GRADE_COLOURS[g.grade || ''] }} /> {nameOf(g)} <small>{g.code}</small>
        </a>
      </div>
      {isOpen && kids.length > 0 && (
        <ul role="group">
          {kids.map((k) => (
            <Node key={k.code} g={k} selected={selected} open={open} toggle={toggle} depth={depth + 1} />
          ))}
        </ul>
      )}
    </li>
  );
}

function GridFacts({ code }) {
  const t = useT();
  const d = useAsync(() => Promise.all([gridOf(code), get('/api/v1/grids/' + encodeURIComponent(code) + '/history')]), [code]);
  if (d.loading) return <Loading />;
  if (d.error) return <ErrorBox error={d.error} onRetry={d.reload} />;
  const [g, h] = d.data;
  const versions = Array.isArray(h) ? h : h.history || h.versions || [];
  const team = g.team || {};
  return (
    <section class="facts-card">
      <h2>
        {nameOf(g)} <small>{g.code}</small>
      </h2>
      <dl class="facts">
        <dt>{t('grids.level')}</dt>
        <dd>{t('level.' + g.level)}</dd>
        <dt>{t('grids.grade')}</dt>
        <dd>{t('grade.' + (g.grade || 'none'))}</dd>
        <dt>{t('grids.households')}</dt>
        <dd>{g.households ?? '—'}</dd>
        <dt>{t('grids.area')}</dt>
        <dd>{g.area_m2 ? (g.area_m2 / 1e6).toFixed(3) + ' km²' : '—'}</dd>
        <dt>{t('grids.team')}</dt>
        <dd>
          {t('grids.leader')}: {team.leader ?? '—'} · {t('grids.deputy')}: {team.deputy ?? '—'} · {t('grids.members')}: {(team.members || []).join(', ') || '—'}
        </dd>
        <dt>{t('grids.validFrom')}</dt>
        <dd>{formatTime(g.valid_from, i18n.language)}</dd>
        <dt>{t('grids.versions')}</dt>
        <dd>{versions.length}</dd>
      </dl>
      <p>
        <a href={'/api/v1/grids/' + g.code + '?format=geojson'}>{t('grids.geojson')}</a>
      </p>
    </section>
  );
}

export function Grids({ ctx, selected }) {
  const t = useT();
  const el = useRef(null);
  const map = useRef(null);
  const layer = useRef(null);
  const [open, setOpen] = useState(new Set());
  const tr = useAsync(() => tree(), []);
  const canCheck = ctx.perms.includes('grid.check');
  const fc = useAsync(() => (canCheck ? findings() : Promise.resolve(null)), []);
  const canImport = ctx.perms.includes('grid.write');
  const reloadLater = useRef(null);
  // After a write the tree is read again at once; the check's findings come from the server's
  // in-memory grids, reloaded within a second of the commit.
  const imp = useGridImport(() => {
    tr.reload();
    clearTimeout(reloadLater.current);
    reloadLater.current = setTimeout(() => fc.reload(), 1500);
  });
  useEffect(() => () => clearTimeout(reloadLater.current), []);

  useEffect(() => {
    map.current = createMap(el.current);
    return () => {
      map.current.remove();
      map.current = null;
    };
  }, []);
  useEffect(() => {
    const m = map.current;
    if (!m) return;
    if (layer.current) m.removeLayer(layer.current);
    const group = L.featureGroup();
    if (fc.data)
      geoLayer(fc.data, {
        style: { color: '#c8372d', weight: 2, fillColor: '#c8372d', fillOpacity: 0.4, className: 'finding-shape' },
        pointToLayer: (f, ll) => pointMarker(ll.lat, ll.lng),
        onEachFeature: (f, l) => l.bindTooltip(`${t('finding.' + f.properties.kind)} ${f.properties.code || ''} ${f.properties.other_code || ''}`),
      }).addTo(group);
    if (selected)
      gridOf(selected).then(async (g) => {
        if (!map.current) return;
        // The grid among its siblings, so it is seen where it lies.
        const siblings = g.parent ? await children(g.parent).catch(() => null) : null;
        if (!map.current) return;
        if (siblings)
          geoLayer(
            { ...siblings, features: siblings.features.filter((f) => f.properties.code !== g.code) },
            {
              style: (f) => ({ color: '#52606d', weight: 1, fillColor: GRADE_COLOURS[f.properties.grade || ''], fillOpacity: 0.15, className: 'grid-shape' }),
              onEachFeature: (f, l) => {
                l.bindTooltip(nameOf(f.properties), { sticky: true });
                l.on('click', () => (location.hash = '#/grids/' + f.properties.code));
              },
            },
          ).addTo(group);
        const gl = geoLayer(asFeatures(g), { style: { color: '#1f2933', weight: 3, fillColor: GRADE_COLOURS[g.grade || ''], fillOpacity: 0.5, className: 'grid-shape' } });
        gl.bindTooltip(nameOf(g), { permanent: true, direction: 'center', className: 'map-label' });
        gl.addTo(group);
        m.fitBounds(gl.getBounds().pad(1.2), { animate: false });
      }, () => {});
    group.addTo(m);
    layer.current = group;
    if (!selected && fc.data && fc.data.features.length) m.fitBounds(group.getBounds());
  }, [fc.data, selected]);

  // Opens the tree down to the selected grid.
  useEffect(() => {
    if (!selected || !tr.data) return;
    const o = new Set(open);
    for (let i = 1; i < selected.length; i++) o.add(selected.slice(0, i));
    const roots = tr.data.grids || [];
    roots.forEach((r) => o.add(r.code));
    setOpen(o);
  }, [selected, tr.data]);

  const toggle = (code) => {
    const o = new Set(open);
    o.has(code) ? o.delete(code) : o.add(code);
    setOpen(o);
  };
  const n = fc.data ? fc.data.features.length : 0;

  return (
    <div class="split">
      <aside class="panel">
        <h2>{t('grids.tree')}</h2>
        {tr.loading && <Loading />}
        <ErrorBox error={tr.error} onRetry={tr.reload} />
        {tr.data && !(tr.data.grids || []).length && <Empty text={t('map.empty')} />}
        {tr.data && (
          <ul class="tree" role="tree" aria-label={t('grids.tree')}>
            {(tr.data.grids || []).map((g) => (
              <Node key={g.code} g={g} selected={selected} open={open} toggle={toggle} depth={1} />
            ))}
          </ul>
        )}
        <h2>{t('grids.check')}</h2>
        {!canCheck && <p class="hint">{t('grids.noCheck')}</p>}
        {fc.loading && canCheck && <Loading />}
        <ErrorBox error={fc.error} onRetry={fc.reload} />
        {fc.data && (n ? <p class="state error">{t('grids.findings', { count: n })}</p> : <p class="state ok">{t('grids.clean')}</p>)}
        {fc.data && n > 0 && (
          <ul class="list">
            {fc.data.features.map((f, i) => (
              <li key={i}>
                {t('finding.' + f.properties.kind)} · {f.properties.code} {f.properties.other_code ? '↔ ' + f.properties.other_code : ''} {f.properties.area_m2 ? `(${Math.round(f.properties.area_m2)} m²)` : ''}
              </li>
            ))}
          </ul>
        )}
        <h2 id="import-title">{t('grids.import')}</h2>
        {canImport ? <ImportForm imp={imp} /> : <p class="hint">{t('gridImport.notAllowed')}</p>}
        <p class="hint">{t('grids.importHint')}</p>
        <pre class="cmd">civgrid import grids streets.shp --db civgrid.db</pre>
      </aside>
      <div class="grid-main">
        <ImportReport imp={imp} map={map} />
        {selected ? <GridFacts code={selected} /> : <p class="hint pad">{t('grids.pick')}</p>}
        <div class="map" ref={el} role="region" aria-label={t('map.label')} />
      </div>
    </div>
  );
}

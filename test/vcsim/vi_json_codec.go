package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vmware/govmomi/vim25/types"
	"github.com/vmware/govmomi/vim25/xml"
)

// The VI/JSON wire format (vCenter 8.0 U1+), both ways, by reflection over govmomi's vim25 types:
//
//   - requestXML writes a method's JSON parameters as the SOAP request a SOAP client would send
//     for them, element by element in the order of the Go type (the WSDL's), with xsi:type where
//     the JSON's _typeName names a subtype or boxes an anyType value. It writes what the JSON
//     says and nothing else: a property the JSON leaves out is left out of the XML too, so a
//     missing required parameter reaches the simulator as it would over SOAP and fails the
//     conformance check (xmllint) on the captured request. What cannot be written at all is
//     refused: an unknown property or type name, a _typeName that is not the declared type or a
//     subtype of it, a JSON value of the wrong kind (a string for an int, a fraction for a long,
//     an integer out of range), an anyType value without _typeName.
//   - jsonValue encodes the simulator's answer, decoded from its SOAP XML into the Go types, as
//     JSON: every data object with _typeName, anyType values boxed ({"_typeName":"int",
//     "_value":5}, {"_typeName":"ArrayOfString","_value":[...]}), managed object references as
//     {"_typeName":"ManagedObjectReference","type","value"}, xsd:dateTime as RFC 3339 strings,
//     base64Binary as base64 strings, longs as exact JSON integers (never through a float64).
//
// The types are govmomi 0.24's, i.e. the vSphere 7.0 API: a property added to the API since is
// an unknown property here.

var (
	timeType        = reflect.TypeOf(time.Time{})
	morefType       = reflect.TypeOf(types.ManagedObjectReference{})
	anyTypeType     = reflect.TypeOf((*types.AnyType)(nil)).Elem()
	arrayOfByteType = reflect.TypeOf(types.ArrayOfByte{})
	xmlNameType     = reflect.TypeOf(xml.Name{})
	vimTypes        = types.TypeFunc()
)

// primitiveXSD maps VI/JSON's boxed primitive type names to the xsi:type a SOAP request gives them.
var primitiveXSD = map[string]string{
	"boolean":  "xsd:boolean",
	"byte":     "xsd:byte",
	"short":    "xsd:short",
	"int":      "xsd:int",
	"long":     "xsd:long",
	"float":    "xsd:float",
	"double":   "xsd:double",
	"string":   "xsd:string",
	"dateTime": "xsd:dateTime",
	"binary":   "xsd:base64Binary",
	"anyURI":   "xsd:anyURI",
}

// jsonRefusal is a request the harness refuses before anything reaches the simulator.
type jsonRefusal struct{ msg string }

func (e *jsonRefusal) Error() string { return e.msg }

func refuse(path, format string, args ...interface{}) error {
	return &jsonRefusal{msg: path + ": " + fmt.Sprintf(format, args...)}
}

// xmlField is a struct field's element name (its xml tag's name) and whether it is omitempty.
func xmlField(f reflect.StructField) (name string, omitempty bool) {
	tag := f.Tag.Get("xml")
	parts := strings.Split(tag, ",")
	name = parts[0]
	if i := strings.LastIndexByte(name, ' '); i >= 0 {
		name = name[i+1:]
	}
	for _, p := range parts[1:] {
		if p == "omitempty" {
			omitempty = true
		}
	}
	return name, omitempty
}

// isSubtype tells whether sub is base or extends it (govmomi embeds a type's base type).
func isSubtype(sub, base reflect.Type) bool {
	if sub == base {
		return true
	}
	if sub.Kind() != reflect.Struct {
		return false
	}
	for i := 0; i < sub.NumField(); i++ {
		if f := sub.Field(i); f.Anonymous && f.Type.Kind() == reflect.Struct && isSubtype(f.Type, base) {
			return true
		}
	}
	return false
}

// boxedArray tells whether t is one of the ArrayOfX wrappers anyType values use for arrays.
func boxedArray(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && strings.HasPrefix(t.Name(), "ArrayOf") && t.NumField() == 1 && t.Field(0).Type.Kind() == reflect.Slice
}

// ---- JSON request -> SOAP request ----

type xmlWriter struct{ buf bytes.Buffer }

func (w *xmlWriter) text(s string) { _ = xml.EscapeText(&w.buf, []byte(s)) }

func (w *xmlWriter) open(name, xsiType string, attrs ...string) {
	w.buf.WriteByte('<')
	w.buf.WriteString(name)
	for i := 0; i+1 < len(attrs); i += 2 {
		w.buf.WriteString(` ` + attrs[i] + `="`)
		w.text(attrs[i+1])
		w.buf.WriteByte('"')
	}
	if xsiType != "" {
		w.buf.WriteString(` xsi:type="`)
		w.text(xsiType)
		w.buf.WriteByte('"')
	}
	w.buf.WriteByte('>')
}

func (w *xmlWriter) close(name string) { w.buf.WriteString("</" + name + ">") }

func (w *xmlWriter) simple(name, xsiType, value string) {
	w.open(name, xsiType)
	w.text(value)
	w.close(name)
}

// requestXML is the SOAP envelope of the call method(this, params), reqType being the method's
// request type (types.Login, ...). params may carry _typeName naming the method or its request
// type (govmomi's JSON client sends it); any other property must be a parameter of the method.
func requestXML(method string, reqType reflect.Type, this types.ManagedObjectReference, params map[string]interface{}) ([]byte, error) {
	if tn, ok := params["_typeName"]; ok {
		if s, isString := tn.(string); !isString || (s != method && s != method+"RequestType") {
			return nil, refuse(method, "_typeName %v is not %s", tn, method)
		}
	}
	w := &xmlWriter{}
	w.buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>`)
	w.open(method, "", "xmlns", "urn:vim25")
	w.open("_this", "", "type", this.Type)
	w.text(this.Value)
	w.close("_this")
	if err := w.fields(reqType, params, method); err != nil {
		return nil, err
	}
	w.close(method)
	w.buf.WriteString(`</soapenv:Body></soapenv:Envelope>`)
	return w.buf.Bytes(), nil
}

// fields writes the properties of obj that are fields of t, in t's order, and refuses any other.
func (w *xmlWriter) fields(t reflect.Type, obj map[string]interface{}, path string) error {
	used := map[string]bool{"_typeName": true}
	if err := w.fieldsOf(t, obj, used, path); err != nil {
		return err
	}
	var unknown []string
	for k := range obj {
		if !used[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return refuse(path, "unknown property %q of %s", unknown[0], t.Name())
	}
	return nil
}

func (w *xmlWriter) fieldsOf(t reflect.Type, obj map[string]interface{}, used map[string]bool, path string) error {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if err := w.fieldsOf(f.Type, obj, used, path); err != nil {
				return err
			}
			continue
		}
		if f.PkgPath != "" || f.Type == xmlNameType {
			continue
		}
		name, _ := xmlField(f)
		if name == "" || name == "-" || name == "_this" {
			continue
		}
		v, ok := obj[name]
		if !ok {
			continue
		}
		used[name] = true
		if v == nil {
			continue // null: unset, as if left out
		}
		if err := w.element(name, f.Type, v, path+"."+name); err != nil {
			return err
		}
	}
	return nil
}

// element writes the JSON value j as the element name of declared type t.
func (w *xmlWriter) element(name string, t reflect.Type, j interface{}, path string) error {
	for t.Kind() == reflect.Ptr {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		s, err := dateTimeText(j, path)
		if err != nil {
			return err
		}
		w.simple(name, "", s)
	case t == morefType:
		return w.moref(name, j, false, path)
	case t.Kind() == reflect.Interface:
		return w.polymorphic(name, t, j, path)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		s, err := base64Text(j, path)
		if err != nil {
			return err
		}
		w.simple(name, "", s)
	case t.Kind() == reflect.Slice:
		arr, ok := j.([]interface{})
		if !ok {
			return refuse(path, "expected an array, got %s", jsonKind(j))
		}
		for i, e := range arr {
			if e == nil {
				return refuse(fmt.Sprintf("%s[%d]", path, i), "null is no array element")
			}
			if err := w.element(name, t.Elem(), e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Struct:
		return w.object(name, t, j, path)
	default:
		s, err := scalarText(t, j, path)
		if err != nil {
			return err
		}
		w.simple(name, "", s)
	}
	return nil
}

// object writes a data object of declared type t; a _typeName other than t's must name a subtype.
func (w *xmlWriter) object(name string, t reflect.Type, j interface{}, path string) error {
	obj, ok := j.(map[string]interface{})
	if !ok {
		return refuse(path, "expected a %s object, got %s", t.Name(), jsonKind(j))
	}
	actual, xsiType := t, ""
	if tn, present := obj["_typeName"]; present {
		s, isString := tn.(string)
		if !isString {
			return refuse(path, "_typeName is not a string")
		}
		if s != t.Name() {
			sub, known := vimTypes(s)
			if !known || !isSubtype(sub, t) {
				return refuse(path, "_typeName %q is not %s or a subtype of it", s, t.Name())
			}
			actual, xsiType = sub, s
		}
	}
	w.open(name, xsiType)
	if err := w.fields(actual, obj, path); err != nil {
		return err
	}
	w.close(name)
	return nil
}

// polymorphic writes a value of interface type iface: an anyType (types.AnyType) or a data
// object type with subtypes (types.BaseX, whose _typeName defaults to X).
func (w *xmlWriter) polymorphic(name string, iface reflect.Type, j interface{}, path string) error {
	obj, ok := j.(map[string]interface{})
	isAny := iface == anyTypeType
	if !ok {
		if isAny {
			return refuse(path, "an anyType value is an object with _typeName (and _value for primitives and arrays), got %s", jsonKind(j))
		}
		return refuse(path, "expected an object, got %s", jsonKind(j))
	}
	tn := ""
	if v, present := obj["_typeName"]; present {
		s, isString := v.(string)
		if !isString || s == "" {
			return refuse(path, "_typeName is not a type name")
		}
		tn = s
	}
	if tn == "" {
		if isAny {
			return refuse(path, "an anyType value needs _typeName")
		}
		base, known := vimTypes(iface.Name())
		if !known {
			return refuse(path, "no default type for %s", iface.Name())
		}
		tn = base.Name()
	}
	if xsd, primitive := primitiveXSD[tn]; primitive {
		if !isAny {
			return refuse(path, "a %s is not a %s", tn, strings.TrimPrefix(iface.Name(), "Base"))
		}
		return w.primitive(name, tn, xsd, obj, path)
	}
	if tn == "ManagedObjectReference" {
		if !isAny {
			return refuse(path, "a ManagedObjectReference is not a %s", strings.TrimPrefix(iface.Name(), "Base"))
		}
		return w.moref(name, obj, true, path)
	}
	t, known := vimTypes(tn)
	if !known || strings.HasSuffix(tn, "RequestType") {
		return refuse(path, "unknown type %q", tn)
	}
	if !isAny && !reflect.PtrTo(t).Implements(iface) && !t.Implements(iface) {
		return refuse(path, "_typeName %q is not %s or a subtype of it", tn, strings.TrimPrefix(iface.Name(), "Base"))
	}
	switch {
	case boxedArray(t):
		if err := onlyKeys(obj, path, "_typeName", "_value"); err != nil {
			return err
		}
		arr, isArray := obj["_value"].([]interface{})
		if !isArray {
			return refuse(path, "%s needs _value, an array", tn)
		}
		field := t.Field(0)
		elemName, _ := xmlField(field)
		w.open(name, tn)
		for i, e := range arr {
			p := fmt.Sprintf("%s._value[%d]", path, i)
			if e == nil {
				return refuse(p, "null is no array element")
			}
			if t == arrayOfByteType { // xsd:byte elements, not base64Binary
				s, err := scalarText(reflect.TypeOf(int8(0)), e, p)
				if err != nil {
					return err
				}
				w.simple(elemName, "", s)
				continue
			}
			if err := w.element(elemName, field.Type.Elem(), e, p); err != nil {
				return err
			}
		}
		w.close(name)
	case t.Kind() == reflect.Struct && t != timeType:
		w.open(name, tn)
		if err := w.fields(t, obj, path); err != nil {
			return err
		}
		w.close(name)
	case t.Kind() == reflect.String: // an enum
		if err := onlyKeys(obj, path, "_typeName", "_value"); err != nil {
			return err
		}
		s, isString := obj["_value"].(string)
		if !isString {
			return refuse(path, "%s needs _value, a string", tn)
		}
		w.simple(name, tn, s)
	default:
		return refuse(path, "%s cannot stand in an anyType", tn)
	}
	return nil
}

func onlyKeys(obj map[string]interface{}, path string, keys ...string) error {
	for k := range obj {
		if !contains(keys, k) {
			return refuse(path, "unknown property %q (expected %s)", k, strings.Join(keys, ", "))
		}
	}
	return nil
}

// primitive writes a boxed primitive: {"_typeName": "int", "_value": 5}.
func (w *xmlWriter) primitive(name, tn, xsd string, obj map[string]interface{}, path string) error {
	if err := onlyKeys(obj, path, "_typeName", "_value"); err != nil {
		return err
	}
	v, present := obj["_value"]
	if !present || v == nil {
		return refuse(path, "a boxed %s needs _value", tn)
	}
	var s string
	var err error
	switch tn {
	case "boolean":
		s, err = scalarText(reflect.TypeOf(false), v, path)
	case "byte":
		s, err = scalarText(reflect.TypeOf(int8(0)), v, path)
	case "short":
		s, err = scalarText(reflect.TypeOf(int16(0)), v, path)
	case "int":
		s, err = scalarText(reflect.TypeOf(int32(0)), v, path)
	case "long":
		s, err = scalarText(reflect.TypeOf(int64(0)), v, path)
	case "float":
		s, err = scalarText(reflect.TypeOf(float32(0)), v, path)
	case "double":
		s, err = scalarText(reflect.TypeOf(float64(0)), v, path)
	case "dateTime":
		s, err = dateTimeText(v, path)
	case "binary":
		s, err = base64Text(v, path)
	default: // string, anyURI
		s, err = scalarText(reflect.TypeOf(""), v, path)
	}
	if err != nil {
		return err
	}
	w.simple(name, xsd, s)
	return nil
}

// moref writes a ManagedObjectReference: {"_typeName":"ManagedObjectReference","type","value"};
// in an anyType, also the boxed form {"_typeName":"ManagedObjectReference","_value":{"type","value"}}.
func (w *xmlWriter) moref(name string, j interface{}, inAny bool, path string) error {
	obj, ok := j.(map[string]interface{})
	if !ok {
		return refuse(path, "expected a ManagedObjectReference object, got %s", jsonKind(j))
	}
	if tn, present := obj["_typeName"]; present && tn != "ManagedObjectReference" {
		return refuse(path, "_typeName %v is not ManagedObjectReference", tn)
	}
	if inner, boxed := obj["_value"]; boxed && inAny {
		if err := onlyKeys(obj, path, "_typeName", "_value"); err != nil {
			return err
		}
		if obj, ok = inner.(map[string]interface{}); !ok {
			return refuse(path+"._value", "expected an object with type and value")
		}
	}
	if err := onlyKeys(obj, path, "_typeName", "type", "value"); err != nil {
		return err
	}
	typ, okType := obj["type"].(string)
	val, okValue := obj["value"].(string)
	if !okType || !okValue {
		return refuse(path, "a ManagedObjectReference needs type and value, both strings")
	}
	xsiType := ""
	if inAny {
		xsiType = "ManagedObjectReference"
	}
	w.open(name, xsiType, "type", typ)
	w.text(val)
	w.close(name)
	return nil
}

// scalarText checks a JSON value against a Go scalar type and returns its XML text.
func scalarText(t reflect.Type, j interface{}, path string) (string, error) {
	switch t.Kind() {
	case reflect.Bool:
		b, ok := j.(bool)
		if !ok {
			return "", refuse(path, "expected a boolean, got %s", jsonKind(j))
		}
		return strconv.FormatBool(b), nil
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		n, ok := j.(json.Number)
		if !ok {
			return "", refuse(path, "expected an integer, got %s", jsonKind(j))
		}
		i, err := strconv.ParseInt(string(n), 10, t.Bits())
		if err != nil {
			return "", refuse(path, "%s is not a %d-bit integer", n, t.Bits())
		}
		return strconv.FormatInt(i, 10), nil
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
		n, ok := j.(json.Number)
		if !ok {
			return "", refuse(path, "expected an integer, got %s", jsonKind(j))
		}
		i, err := strconv.ParseUint(string(n), 10, t.Bits())
		if err != nil {
			return "", refuse(path, "%s is not an unsigned %d-bit integer", n, t.Bits())
		}
		return strconv.FormatUint(i, 10), nil
	case reflect.Float32, reflect.Float64:
		n, ok := j.(json.Number)
		if !ok {
			return "", refuse(path, "expected a number, got %s", jsonKind(j))
		}
		f, err := strconv.ParseFloat(string(n), t.Bits())
		if err != nil || math.IsInf(f, 0) {
			return "", refuse(path, "%s is not a %d-bit float", n, t.Bits())
		}
		return string(n), nil
	case reflect.String:
		s, ok := j.(string)
		if !ok {
			return "", refuse(path, "expected a string, got %s", jsonKind(j))
		}
		return s, nil
	}
	return "", refuse(path, "the harness cannot write a %s", t)
}

func dateTimeText(j interface{}, path string) (string, error) {
	s, ok := j.(string)
	if !ok {
		return "", refuse(path, "expected a dateTime string, got %s", jsonKind(j))
	}
	if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
		return "", refuse(path, "%q is not an ISO 8601 dateTime", s)
	}
	return s, nil
}

func base64Text(j interface{}, path string) (string, error) {
	s, ok := j.(string)
	if !ok {
		return "", refuse(path, "expected a base64 string, got %s", jsonKind(j))
	}
	if _, err := base64.StdEncoding.DecodeString(s); err != nil {
		return "", refuse(path, "not base64")
	}
	return s, nil
}

func jsonKind(j interface{}) string {
	switch j.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []interface{}:
		return "an array"
	case map[string]interface{}:
		return "an object"
	}
	return fmt.Sprintf("%T", j)
}

// ---- simulator answer (Go values) -> JSON ----

type jsonWriter struct{ buf bytes.Buffer }

func (w *jsonWriter) str(s string) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	w.buf.Write(bytes.TrimRight(b.Bytes(), "\n"))
}

func (w *jsonWriter) box(boxed bool, typeName string, raw func()) {
	if !boxed {
		raw()
		return
	}
	w.buf.WriteString(`{"_typeName":`)
	w.str(typeName)
	w.buf.WriteString(`,"_value":`)
	raw()
	w.buf.WriteByte('}')
}

// value writes v; inAny: v stands where the type declares anyType (primitives and arrays are
// boxed there; data objects carry _typeName everywhere anyway).
func (w *jsonWriter) value(v reflect.Value, inAny bool) {
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			w.buf.WriteString("null")
			return
		}
		w.value(v.Elem(), true)
	case reflect.Ptr:
		if v.IsNil() {
			w.buf.WriteString("null")
			return
		}
		w.value(v.Elem(), inAny)
	case reflect.Struct:
		t := v.Type()
		switch {
		case t == timeType:
			s := v.Interface().(time.Time).UTC().Format(time.RFC3339Nano)
			w.box(inAny, "dateTime", func() { w.str(s) })
		case t == morefType:
			ref := v.Interface().(types.ManagedObjectReference)
			w.buf.WriteString(`{"_typeName":"ManagedObjectReference","type":`)
			w.str(ref.Type)
			w.buf.WriteString(`,"value":`)
			w.str(ref.Value)
			w.buf.WriteByte('}')
		case boxedArray(t):
			w.box(true, t.Name(), func() { w.array(v) })
		default:
			w.buf.WriteString(`{"_typeName":`)
			w.str(t.Name())
			w.fields(v)
			w.buf.WriteByte('}')
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, v.Len())
			reflect.Copy(reflect.ValueOf(b), v)
			w.box(inAny, "binary", func() { w.str(base64.StdEncoding.EncodeToString(b)) })
			return
		}
		w.box(inAny, "ArrayOf"+primitiveName(v.Type().Elem()), func() { w.elements(v) })
	case reflect.Bool:
		w.box(inAny, "boolean", func() { w.buf.WriteString(strconv.FormatBool(v.Bool())) })
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		w.box(inAny, primitiveName(v.Type()), func() { w.buf.WriteString(strconv.FormatInt(v.Int(), 10)) })
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
		w.box(inAny, primitiveName(v.Type()), func() { w.buf.WriteString(strconv.FormatUint(v.Uint(), 10)) })
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		w.box(inAny, primitiveName(v.Type()), func() {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				w.buf.WriteString("null")
				return
			}
			w.buf.WriteString(strconv.FormatFloat(f, 'g', -1, v.Type().Bits()))
		})
	case reflect.String:
		w.box(inAny, primitiveName(v.Type()), func() { w.str(v.String()) })
	default:
		w.buf.WriteString("null")
	}
}

// array writes the slice inside an ArrayOfX wrapper (ArrayOfByte's bytes are signed xsd:bytes).
func (w *jsonWriter) array(v reflect.Value) {
	s := v.Field(0)
	if v.Type() == arrayOfByteType {
		w.buf.WriteByte('[')
		for i := 0; i < s.Len(); i++ {
			if i > 0 {
				w.buf.WriteByte(',')
			}
			w.buf.WriteString(strconv.Itoa(int(int8(s.Index(i).Uint()))))
		}
		w.buf.WriteByte(']')
		return
	}
	w.elements(s)
}

func (w *jsonWriter) elements(s reflect.Value) {
	w.buf.WriteByte('[')
	for i := 0; i < s.Len(); i++ {
		if i > 0 {
			w.buf.WriteByte(',')
		}
		w.value(s.Index(i), false)
	}
	w.buf.WriteByte(']')
}

// primitiveName is VI/JSON's name for a Go scalar type (an enum's own name for named strings).
func primitiveName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int8:
		return "byte"
	case reflect.Int16:
		return "short"
	case reflect.Int32:
		return "int"
	case reflect.Int64, reflect.Int, reflect.Uint32, reflect.Uint64, reflect.Uint:
		return "long"
	case reflect.Uint8, reflect.Uint16:
		return "int"
	case reflect.Float32:
		return "float"
	case reflect.Float64:
		return "double"
	case reflect.String:
		if t.Name() != "" && t.Name() != "string" {
			return t.Name()
		}
		return "string"
	case reflect.Struct:
		if t == timeType {
			return "dateTime"
		}
		return t.Name()
	case reflect.Ptr:
		return primitiveName(t.Elem())
	case reflect.Interface:
		return "AnyType"
	}
	return t.Name()
}

// fields writes a data object's set fields, base type's first; an unset optional field (nil,
// empty array, omitempty zero value) is left out.
func (w *jsonWriter) fields(v reflect.Value) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		fv := v.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			w.fields(fv)
			continue
		}
		if f.PkgPath != "" || f.Type == xmlNameType {
			continue
		}
		name, omitempty := xmlField(f)
		if name == "" || name == "-" {
			continue
		}
		switch fv.Kind() {
		case reflect.Ptr, reflect.Interface:
			if fv.IsNil() {
				continue
			}
		case reflect.Slice, reflect.Map:
			if fv.Len() == 0 {
				continue
			}
		}
		if omitempty && fv.IsZero() {
			continue
		}
		w.buf.WriteByte(',')
		w.str(name)
		w.buf.WriteByte(':')
		w.value(fv, f.Type.Kind() == reflect.Interface)
	}
}

// jsonOf encodes v (inAny as for value).
func jsonOf(v reflect.Value, inAny bool) []byte {
	w := &jsonWriter{}
	w.value(v, inAny)
	return w.buf.Bytes()
}

// jsonProperty encodes a property value as a property GET answers it: the property's own type,
// not boxed (an ArrayOfX is its array, a primitive its JSON value).
func jsonProperty(val interface{}) []byte {
	v := reflect.ValueOf(val)
	for v.Kind() == reflect.Ptr && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() == reflect.Struct && boxedArray(v.Type()) {
		w := &jsonWriter{}
		w.array(v)
		return w.buf.Bytes()
	}
	return jsonOf(v, false)
}

// jsonFault is the JSON of a fault: the fault object with its fields, plus faultstring (the
// SOAP fault's message), which is how vCenter's VI/JSON answers a fault (HTTP 500).
func jsonFault(fault interface{}, message string) []byte {
	w := &jsonWriter{}
	v := reflect.ValueOf(fault)
	for v.IsValid() && (v.Kind() == reflect.Ptr || v.Kind() == reflect.Interface) && !v.IsNil() {
		v = v.Elem()
	}
	if !v.IsValid() || v.Kind() != reflect.Struct {
		v = reflect.ValueOf(types.SystemError{Reason: message})
	}
	w.buf.WriteString(`{"_typeName":`)
	w.str(v.Type().Name())
	w.fields(v)
	w.buf.WriteString(`,"faultstring":`)
	w.str(message)
	w.buf.WriteByte('}')
	return w.buf.Bytes()
}
